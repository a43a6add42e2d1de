-- Popularity against follower growth over the last 30 days (UTC), one row per artist:
-- the latest popularity and its change over the window, next to the follower gain per day
-- (over the days the gains span, as in the top gainers) and that gain relative to the
-- artist's size (per million followers), so big and small artists compare.
SELECT
    artist_id,
    max_by(name, date) AS name,
    max_by(popularity, date) AS popularity,
    max_by(popularity, date) - min_by(popularity, date) AS popularity_change,
    max_by(followers, date) AS followers,
    CAST(sum(followers_gained) AS DOUBLE)
        / sum(CASE WHEN followers_gained IS NOT NULL THEN days_since_previous END)
        AS followers_gained_per_day,
    1e6 * CAST(sum(followers_gained) AS DOUBLE)
        / sum(CASE WHEN followers_gained IS NOT NULL THEN days_since_previous END)
        / NULLIF(max_by(followers, date), 0) AS gained_per_day_per_million
FROM Spotify_Gold_View
WHERE date > date_add('day', -30, CURRENT_DATE) AND date <= CURRENT_DATE
GROUP BY artist_id
ORDER BY popularity DESC NULLS LAST, artist_id
