"""Working days for deadlines: the official calendar of China or Russia (the `holidays`
package, or a year's notice published by an admin), with local exceptions."""

from hotline.workdays.calendar import Country, NoSchedule, Source, WorkCalendar, published_years
from hotline.workdays.notice import Notice, NoticeError, Run

__all__ = [
    "Country",
    "NoSchedule",
    "Notice",
    "NoticeError",
    "Run",
    "Source",
    "WorkCalendar",
    "published_years",
]
