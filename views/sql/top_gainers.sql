-- Top 10 gainers over the last ? days (today, UTC, and the days before it), per day.
-- The window in days is the query's one parameter, the ? in WHERE (Athena asks for it in the
-- console); the library binds it as top_gainers_7d (7) and top_gainers_30d (30).
-- followers_gained_per_day = followers gained over the window / days those gains span. The
-- gold view's gains telescope: their sum is (latest followers - followers at the snapshot
-- before the window's first one), and the days sum to the same span, so a 3-day gap after an
-- outage counts as 3 days and a missing day never inflates or deflates an artist's rate.
-- An artist with no gain inside the window has no rate (NULL) and sorts last.
SELECT
    artist_id,
    max_by(name, date) AS name,
    max_by(followers, date) AS followers,
    sum(followers_gained) AS followers_gained,
    sum(CASE WHEN followers_gained IS NOT NULL THEN days_since_previous END) AS days_covered,
    CAST(sum(followers_gained) AS DOUBLE)
        / sum(CASE WHEN followers_gained IS NOT NULL THEN days_since_previous END)
        AS followers_gained_per_day
FROM Spotify_Gold_View
WHERE date > date_add('day', -?, CURRENT_DATE) AND date <= CURRENT_DATE
GROUP BY artist_id
ORDER BY followers_gained_per_day DESC NULLS LAST, artist_id
LIMIT 10
