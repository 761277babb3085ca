"""Operations built on the door: evidence, the stage checklist, commendation decisions, workflow migration and the scheduler's time-based steps."""
