"""The working-day calendar as the centre keeps it (R15, R18): the years admins publish from
the government's holiday notice, their comparison with the `holidays` package, the warnings
(a year nobody published, a conflict), and the local exceptions. The pure counting is
hotline.workdays'."""
