-- A cluster's terms live in its row, heaviest first, as the engine of the
-- instance that last changed the cluster left them (writers take turns
-- under the clustering lock and read each other's changes first): a batch
-- rewrites one row per cluster it touched instead of upserting one row per
-- (cluster, term). Counts and times stay commutative increments. The 64
-- heaviest are kept (CLUSTER_TERMS_STORED in consumer/cluster.h).
ALTER TABLE clusters ADD COLUMN terms text[] NOT NULL DEFAULT '{}',
                     ADD COLUMN weights double precision[] NOT NULL DEFAULT '{}';
UPDATE clusters c SET terms = t.terms, weights = t.weights
FROM (SELECT cluster_id, array_agg(term ORDER BY weight DESC, term) AS terms,
             array_agg(weight ORDER BY weight DESC, term) AS weights
      FROM (SELECT cluster_id, term, weight,
                   row_number() OVER (PARTITION BY cluster_id ORDER BY weight DESC, term) AS rank
            FROM cluster_terms) ranked
      WHERE rank <= 64 GROUP BY cluster_id) t
WHERE c.id = t.cluster_id AND c.merged_into IS NULL;
-- cluster_terms stays, no longer read: consumers of the previous version
-- keep writing to it until a rolling upgrade replaces them.
