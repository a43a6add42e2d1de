-- Business question 2: average daily followers gained per artist, most first. An artist's
-- first day has no gain (NULL) and avg() skips it; an artist with a single day averages to
-- NULL, which sorts last.
SELECT name, CAST(avg(Followers_Gained) as INT) AS avg_daily_followers_gained
FROM Spotify_Gold_View
GROUP BY name
ORDER BY 2 DESC
