-- Events, keyed by event id: a re-delivery never adds a row.
CREATE TABLE events (
    id                text PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('article', 'repo_event')),
    source            text NOT NULL,
    url               text,
    title             text NOT NULL,
    body              text NOT NULL DEFAULT '',
    published_at      timestamptz,
    crawled_at        timestamptz,
    lang              text,
    repo              jsonb,
    tags              jsonb,
    kafka_topic       text NOT NULL,
    kafka_partition   integer NOT NULL,
    kafka_offset      bigint NOT NULL,
    extraction        jsonb,
    extracted_by      text,
    extractor_version text,
    cluster_id        bigint,
    ingested_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_published_at ON events (published_at);

-- The source of truth for consumer progress: written in the same
-- transaction as the rows it covers. Kafka's committed offsets mirror it.
CREATE TABLE kafka_offsets (
    consumer_group text NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- A mirror of what went to the dead-letter topic, written in the same
-- transaction as the offset that passes it: exactly one row per dead letter.
CREATE TABLE dead_letters (
    consumer_group     text NOT NULL,
    topic              text NOT NULL,
    partition          integer NOT NULL,
    kafka_offset       bigint NOT NULL,
    error_class        text NOT NULL,
    error_stage        text NOT NULL,
    error_message      text NOT NULL,
    dlq_topic          text NOT NULL,
    failed_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition, kafka_offset)
);
