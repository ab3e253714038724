package dev.workflowworker.core.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;

import java.util.Locale;
import java.util.Map;

/**
 * The cron dialect of schedules: Unix crontab's five fields, or six with seconds first, plus the
 * usual macros. cron-utils parses it; its Bean Validation entry point is never touched.
 */
final class CronSyntax {

    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *",
            "@annually", "0 0 1 1 *",
            "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *",
            "@midnight", "0 0 * * *",
            "@hourly", "0 * * * *");

    private static final CronParser FIVE = new CronParser(definition(false));
    private static final CronParser SIX = new CronParser(definition(true));

    private CronSyntax() {
    }

    /**
     * @throws IllegalArgumentException naming what is wrong with the expression
     */
    static ExecutionTime parse(String expression) {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("is blank");
        }
        String text = expression.trim();
        if (text.startsWith("@")) {
            String macro = MACROS.get(text.toLowerCase(Locale.ROOT));
            if (macro == null) {
                throw new IllegalArgumentException("unknown macro '" + text + "' (known: "
                        + String.join(", ", new java.util.TreeSet<>(MACROS.keySet())) + ")");
            }
            text = macro;
        }
        int fields = text.split("\\s+").length;
        CronParser parser = switch (fields) {
            case 5 -> FIVE;
            case 6 -> SIX;
            default -> throw new IllegalArgumentException("has " + fields
                    + " fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)");
        };
        Cron cron;
        try {
            cron = parser.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return ExecutionTime.forCron(cron);
    }

    /**
     * Unix semantics, as cron-utils defines the Unix crontab, with an optional seconds field in
     * front: a day matches when day-of-month or day-of-week matches (if both are restricted), and
     * Sunday is 0 or 7.
     */
    private static CronDefinition definition(boolean seconds) {
        CronDefinitionBuilder b = CronDefinitionBuilder.defineCron();
        if (seconds) {
            b = b.withSeconds().withValidRange(0, 59).withStrictRange().and();
        }
        return b.withMinutes().withValidRange(0, 59).withStrictRange().and()
                .withHours().withValidRange(0, 23).withStrictRange().and()
                .withDayOfMonth().withValidRange(1, 31).withStrictRange().and()
                .withMonth().withValidRange(1, 12).withStrictRange().and()
                .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).withIntMapping(7, 0)
                .withStrictRange().and()
                .instance();
    }
}
