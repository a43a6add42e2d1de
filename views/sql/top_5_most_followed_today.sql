-- Business question 1: the top 5 most followed artists today (UTC; the local engine runs
-- with TimeZone=UTC so CURRENT_DATE agrees with Athena).
SELECT artist_id, name, date, followers, popularity, followers_gained, follower_rank
FROM Spotify_Gold_View
WHERE CAST(date as DATE)=CURRENT_DATE
ORDER BY followers DESC
LIMIT 5
