"""Working days for deadlines: the official calendar of China or Russia, with local exceptions."""

from hotline.workdays.calendar import Country, NoSchedule, WorkCalendar, published_years

__all__ = ["Country", "NoSchedule", "WorkCalendar", "published_years"]
