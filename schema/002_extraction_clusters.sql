-- Extraction, story clusters. Rows here are derived from events and are
-- written in the same transaction as the events they come from.
CREATE TABLE event_tags (
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    tag      text NOT NULL,
    PRIMARY KEY (event_id, tag)
);
CREATE INDEX event_tags_tag ON event_tags (tag);

CREATE TABLE facts (
    event_id  text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    idx       integer NOT NULL,
    subject   text NOT NULL,
    predicate text NOT NULL,
    object    text,
    amount    double precision,
    currency  text,
    PRIMARY KEY (event_id, idx)
);
CREATE INDEX facts_predicate ON facts (predicate, subject);

-- A cluster is kept as commutative sums (document count, per-term weight
-- sums), so instances add their increments in any order and converge.
CREATE TABLE clusters (
    id          bigint PRIMARY KEY,
    docs        bigint NOT NULL,
    first_seen  timestamptz,
    last_seen   timestamptz,
    label       text NOT NULL,
    merged_into bigint,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clusters_updated_at ON clusters (updated_at);
CREATE INDEX clusters_last_seen ON clusters (last_seen) WHERE merged_into IS NULL;

CREATE TABLE cluster_terms (
    cluster_id bigint NOT NULL,
    term       text NOT NULL,
    weight     double precision NOT NULL,
    PRIMARY KEY (cluster_id, term)
);

CREATE INDEX events_cluster_id ON events (cluster_id);

CREATE VIEW cluster_summary AS
SELECT c.id, c.label, c.docs, c.first_seen, c.last_seen,
       count(DISTINCT e.source) AS sources,
       array_agg(DISTINCT t.tag) FILTER (WHERE t.tag IS NOT NULL) AS tags
FROM clusters c
JOIN events e ON e.cluster_id = c.id
LEFT JOIN event_tags t ON t.event_id = e.id
WHERE c.merged_into IS NULL
GROUP BY c.id;
