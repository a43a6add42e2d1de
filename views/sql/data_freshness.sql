-- Data freshness: the latest loaded snapshot date per artist and overall, straight from
-- silver. days_behind_latest > 0 flags an artist missing from the latest loads (dropped
-- from the roster, or unknown to Spotify); days_behind_today > 0 for everyone means the
-- pipeline itself is late.
SELECT
    artist_id,
    max_by(name, snapshot_date) AS name,
    max(snapshot_date) AS latest_date,
    max(fetched_at) AS latest_fetched_at,
    max(max(snapshot_date)) OVER () AS latest_overall,
    date_diff('day', max(snapshot_date), max(max(snapshot_date)) OVER ()) AS days_behind_latest,
    date_diff('day', max(snapshot_date), CURRENT_DATE) AS days_behind_today
FROM spotify.artists_silver
GROUP BY artist_id
ORDER BY days_behind_latest DESC, artist_id
