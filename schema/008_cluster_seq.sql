-- An event's place in its batch's clustering order. A consumer clusters
-- part of a batch while the previous one is written, in the order the
-- events were prepared, so the order is stored rather than implied by the
-- Kafka positions; `replay --rebuild` repeats it. NULL (rows stored before
-- this column): by topic, partition and offset within the batch.
ALTER TABLE events ADD COLUMN IF NOT EXISTS cluster_seq integer;
