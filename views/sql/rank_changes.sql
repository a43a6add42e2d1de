-- Rank changes day over day, on the latest loaded day: each artist's follower rank that day
-- against its rank at its own previous snapshot (by date, so a gap compares with the last
-- day it was seen). rank_change > 0 means the artist climbed; NULL means it is new.
WITH ranked AS (
    SELECT
        artist_id,
        name,
        date,
        followers,
        follower_rank,
        lag(date) OVER (PARTITION BY artist_id ORDER BY date) AS previous_date,
        lag(follower_rank) OVER (PARTITION BY artist_id ORDER BY date) AS previous_rank
    FROM Spotify_Gold_View
)
SELECT ranked.*, previous_rank - follower_rank AS rank_change
FROM ranked
WHERE date = (SELECT max(date) FROM Spotify_Gold_View)
ORDER BY follower_rank, artist_id
