-- A merge no longer rewrites the absorbed cluster's events: events.cluster_id
-- stays the cluster the event joined, and clusters.merged_into (always a live
-- cluster) leads to the story it belongs to now. event_clusters resolves it
-- for every clustered event; cluster_summary counts through it.
CREATE VIEW event_clusters AS
SELECT e.id AS event_id, coalesce(c.merged_into, c.id) AS cluster_id
FROM events e JOIN clusters c ON c.id = e.cluster_id;

CREATE OR REPLACE VIEW cluster_summary AS
SELECT c.id, c.label, c.docs, c.first_seen, c.last_seen,
       count(DISTINCT e.source) AS sources,
       array_agg(DISTINCT t.tag) FILTER (WHERE t.tag IS NOT NULL) AS tags
FROM clusters c
JOIN clusters m ON coalesce(m.merged_into, m.id) = c.id
JOIN events e ON e.cluster_id = m.id
LEFT JOIN event_tags t ON t.event_id = e.id
WHERE c.merged_into IS NULL
GROUP BY c.id;
