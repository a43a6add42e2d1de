-- Artists who lost followers: every artist-day whose count fell since the artist's previous
-- snapshot, newest day first, biggest loss first. followers_lost_per_day spreads a loss over
-- a gap the same way the gains are spread.
SELECT
    artist_id,
    name,
    date,
    followers,
    -followers_gained AS followers_lost,
    days_since_previous,
    -followers_gained_per_day AS followers_lost_per_day
FROM Spotify_Gold_View
WHERE followers_gained < 0
ORDER BY date DESC, followers_lost DESC, artist_id
