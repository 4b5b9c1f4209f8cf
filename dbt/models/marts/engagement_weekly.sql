-- Weekly engagement trend (ISO weeks, Monday to Sunday, UTC): how many people watch on a
-- typical day, how much they watch, and how the week compares with the one before.
-- daily_kpis gives one row per day with silver events; daily_active_users adds sessions
-- and events (summed over market and platform).
with kpis as (
    select
        date_trunc('week', event_date)::date as week_start,
        event_date,
        dau,
        mau_30d,
        content_hours
    from {{ source('gold', 'daily_kpis') }}
),

activity as (
    select
        date_trunc('week', event_date)::date as week_start,
        -- DuckDB sums BIGINT into HUGEINT, which BI drivers read badly: back to BIGINT.
        sum(sessions)::bigint as sessions,
        sum(events)::bigint as events
    from {{ source('gold', 'daily_active_users') }}
    group by 1
),

weeks as (
    select
        week_start,
        count(*) as days_with_events,
        avg(dau) as avg_dau,
        max(dau) as peak_dau,
        sum(dau)::bigint as active_user_days,
        -- MAU as it stood on the week's last day with events.
        max_by(mau_30d, event_date) as mau_30d_at_week_end,
        sum(content_hours) as content_hours
    from kpis
    group by 1
),

previous as (
    select
        *,
        lag(week_start) over (order by week_start) as previous_week_start,
        lag(avg_dau) over (order by week_start) as previous_avg_dau
    from weeks
)

select
    p.week_start,
    p.days_with_events,
    -- The first and last weeks of a lake are usually partial (and the last day still filling):
    -- compare averages of complete weeks.
    p.days_with_events = 7 as complete_week,
    p.avg_dau,
    p.peak_dau,
    p.mau_30d_at_week_end,
    p.content_hours,
    -- Hours watched per person-day of watching; null in a week without watchers.
    case when p.active_user_days > 0 then p.content_hours / p.active_user_days end
        as content_hours_per_active_user_day,
    coalesce(a.sessions, 0) as sessions,
    coalesce(a.events, 0) as events,
    -- Change of avg_dau against the calendar week before; null when that week has no row
    -- (or no watchers), so a gap in the data is never read as growth.
    case
        when p.previous_week_start = p.week_start - interval 7 day and p.previous_avg_dau > 0
            then p.avg_dau / p.previous_avg_dau - 1
    end as avg_dau_change
from previous as p
left join activity as a using (week_start)
