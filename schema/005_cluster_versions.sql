-- Every write to a cluster takes the next version, under the clustering
-- lock (store_cluster_lock), so versions follow commit order and an instance
-- reads exactly the clusters changed since its last read. Clusters stored
-- before this migration get one each.
CREATE SEQUENCE cluster_version;
ALTER TABLE clusters ADD COLUMN version bigint NOT NULL DEFAULT nextval('cluster_version');
CREATE INDEX clusters_version ON clusters (version);
-- A merged-away cluster points at its survivor, never at another merged one
-- (merges re-point the clusters absorbed before), found through this index.
CREATE INDEX clusters_merged_into ON clusters (merged_into) WHERE merged_into IS NOT NULL;
