-- Page fetching (fetch.enabled): how fetching an event's URL went, for
-- events that arrived with a URL but no text. NULL: not fetched.
ALTER TABLE events ADD COLUMN IF NOT EXISTS fetch_status text;
