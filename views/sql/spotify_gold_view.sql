-- Gold view: one row per artist per day over spotify.artists_silver (Athena engine v3 SQL).
-- The local engine runs this same file through sqlglot (athena -> duckdb).
--
-- followers_gained: followers minus the artist's previous snapshot. The window is
-- PARTITION BY artist_id ORDER BY snapshot_date: by id (a renamed artist keeps its history)
-- and by date (the original project ordered by followers, which turned every loss into a
-- gain of the wrong artist-day). NULL on an artist's first day.
-- days_since_previous: a gap after an outage spans several days, so the per-day figure
-- divides by it instead of counting the gap as one day.
-- followers_gained_per_day: cast to DOUBLE first; Trino divides BIGINT by BIGINT as integers.
-- follower_rank: rank() (ties share a rank) among that day's artists, most followers first.
CREATE OR REPLACE VIEW spotify.spotify_gold_view AS
WITH with_previous AS (
    SELECT
        artist_id,
        name,
        snapshot_date,
        followers,
        popularity,
        lag(followers) OVER (PARTITION BY artist_id ORDER BY snapshot_date) AS previous_followers,
        lag(snapshot_date) OVER (PARTITION BY artist_id ORDER BY snapshot_date) AS previous_date
    FROM spotify.artists_silver
)
SELECT
    artist_id,
    name,
    snapshot_date AS "date",
    followers,
    popularity,
    followers - previous_followers AS followers_gained,
    date_diff('day', previous_date, snapshot_date) AS days_since_previous,
    CAST(followers - previous_followers AS DOUBLE)
        / CAST(date_diff('day', previous_date, snapshot_date) AS DOUBLE) AS followers_gained_per_day,
    rank() OVER (PARTITION BY snapshot_date ORDER BY followers DESC NULLS LAST) AS follower_rank
FROM with_previous
