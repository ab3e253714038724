package dev.workflowworker.core.schedule;

import java.time.Instant;

/**
 * A schedule with where it stands.
 *
 * @param schedule  the schedule, {@link Schedule#paused()} telling whether it is paused now
 * @param nextFire  the scheduled instant of its next occurrence, or null when it has none
 * @param lastFire  the scheduled instant of the last occurrence it fired, or null
 * @param fired     how many occurrences it fired by its times (not counting triggers)
 * @param skipped   how many occurrences its misfire and overlap policies skipped
 */
public record ScheduleInfo(Schedule schedule, Instant nextFire, Instant lastFire, long fired, long skipped) {
}
