-- Trends: themes carried by several independent story clusters. Upserted by
-- key each time they are computed; a theme that no longer qualifies stays
-- with active = false.
CREATE TABLE trends (
    key          text PRIMARY KEY,
    title        text NOT NULL,
    direction    text NOT NULL,
    score        double precision NOT NULL,
    acceleration double precision NOT NULL,
    volume       integer NOT NULL,
    recent       integer NOT NULL,
    earlier      integer NOT NULL,
    clusters     integer NOT NULL,
    independent  integer NOT NULL,
    sources      integer NOT NULL,
    tags         jsonb NOT NULL,
    entities     jsonb NOT NULL,
    totals       jsonb NOT NULL,
    active       boolean NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trend_clusters (
    trend_key   text NOT NULL REFERENCES trends (key) ON DELETE CASCADE,
    cluster_id  bigint NOT NULL,
    label       text,
    subject     text,
    predicate   text,
    amount      double precision,
    currency    text,
    events      integer NOT NULL,
    sources     integer NOT NULL,
    independent boolean NOT NULL,
    PRIMARY KEY (trend_key, cluster_id)
);

CREATE VIEW trend_evidence AS
SELECT t.key, t.title, t.direction, t.score, tc.cluster_id, tc.label, tc.subject, tc.predicate,
       tc.amount, tc.currency, tc.events, tc.sources, tc.independent
FROM trends t JOIN trend_clusters tc ON tc.trend_key = t.key
WHERE t.active;
