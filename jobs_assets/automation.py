"""Whether schedules and sensors start running: `JOBS_AUTOMATION=on` (set by the image and
docker-compose) or stopped (the default, so `make dev` on a laptop fetches nothing until
someone asks). Either way each can be switched in the UI, which then remembers it."""

import dagster as dg

from jobs_assets.settings import Settings

AUTOMATION_ON = Settings.from_env().automation
SCHEDULE_STATUS = (
    dg.DefaultScheduleStatus.RUNNING if AUTOMATION_ON else dg.DefaultScheduleStatus.STOPPED
)
SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if AUTOMATION_ON else dg.DefaultSensorStatus.STOPPED
