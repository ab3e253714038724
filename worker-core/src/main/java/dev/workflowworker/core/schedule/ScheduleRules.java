package dev.workflowworker.core.schedule;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * What makes a {@link Schedule} one that can fire: the checks {@link Schedule.Builder#build()}
 * runs, in the order they are reported, so that the first wrong setting is the one named.
 */
final class ScheduleRules {

    /** Schedule ids are used in Redis keys and event ids: letters, digits and {@code . _ - : /}. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:/-]{1,200}");
    /** Below this, a schedule is a busy loop rather than a schedule. */
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

    private ScheduleRules() {
    }

    /**
     * Checks a schedule's settings.
     *
     * @param s the schedule, not yet handed out
     * @throws IllegalArgumentException naming the first setting that is wrong
     */
    static void check(Schedule s) {
        String id = s.id();
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("schedule id '" + id
                    + "' must be 1-200 characters of letters, digits and . _ - : /");
        }
        String where = "schedule '" + id + "': ";
        String cron = s.cron();
        Duration interval = s.interval();
        if (cron != null) {
            try {
                CronSyntax.parse(cron);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + "cron '" + cron + "' " + e.getMessage(), e);
            }
        } else if (interval == null || interval.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException(where + "interval must be at least " + MIN_INTERVAL + ", was "
                    + interval);
        }
        require(s.zone() != null, where + "zone must not be null");
        require(s.eventType() != null && !s.eventType().isBlank(), where + "eventType must be set");
        require(s.start() == null || s.end() == null || !s.end().isBefore(s.start()),
                where + "end " + s.end() + " is before start " + s.start());
        require(s.limit() >= 0, where + "limit must be 0 (none) or positive, was " + s.limit());
        require(s.jitter() != null && !s.jitter().isNegative(),
                where + "jitter must be zero or positive, was " + s.jitter());
        require(s.misfire() != null, where + "misfire must not be null");
        require(s.misfireThreshold() != null && !s.misfireThreshold().isNegative(),
                where + "misfireThreshold must be zero or positive, was " + s.misfireThreshold());
        require(s.catchUpWindow() != null && !s.catchUpWindow().isNegative(),
                where + "catchUpWindow must be zero or positive, was " + s.catchUpWindow());
        require(s.overlap() != null, where + "overlap must not be null");
        require(s.gap() != null, where + "gap must not be null");
        require(s.managedBy() == null || s.managedBy().length() <= 200,
                where + "managedBy must be at most 200 characters");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
