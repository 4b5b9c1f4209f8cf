{#- A table's grain: every column of it set, and no two rows with the same values.
    The rows this returns are the offending grain values (dbt fails the test on any). -#}
{% test grain(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
    or {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
