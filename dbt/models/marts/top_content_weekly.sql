-- The week's most watched content (ISO weeks, UTC): the top items by views, with how many
-- finish them and how long they are watched. Ties on views go to more completions, then to
-- the smaller content_id, so the ranking is the same on every run.
with weekly as (
    select
        date_trunc('week', event_date)::date as week_start,
        content_id,
        content_type,
        -- DuckDB sums BIGINT into HUGEINT, which BI drivers read badly: back to BIGINT.
        sum(views)::bigint as views,
        -- Daily distinct viewers summed over the week: a person watching on 3 days counts 3.
        sum(unique_viewers)::bigint as viewer_days,
        sum(stops)::bigint as stops,
        sum(completions)::bigint as completions,
        -- avg_watch_time_ms is the mean over the day's stops: times stops gives the total.
        coalesce(sum(avg_watch_time_ms * stops), 0) / 3600000.0 as watch_hours
    from {{ source('gold', 'content_engagement') }}
    group by 1, 2, 3
),

ranked as (
    select
        *,
        row_number() over (
            partition by week_start order by views desc, completions desc, content_id, content_type
        ) as content_rank
    from weekly
)

select
    week_start,
    content_rank,
    content_id,
    content_type,
    views,
    viewer_days,
    stops,
    completions,
    case when stops > 0 then completions / stops end as completion_rate,
    watch_hours
from ranked
where content_rank <= {{ var('top_content_limit') }}
