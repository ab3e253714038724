package dev.workflowworker.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.examples.AdminCli.UsageException;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The values {@link TimeCli}'s flags take: durations, instants, counts, enum choices and JSON payloads. */
final class TimeArgs {

    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TimeArgs() {
    }

    /** An instant as given, or a duration from now on this machine's clock (the SPI takes an instant). */
    static Instant when(String v) throws UsageException {
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException notAnInstant) {
            Duration d = parseDuration(v);
            if (d == null) {
                throw new UsageException("WHEN must be an instant (2026-12-24T08:00:00Z) or a duration (PT10M, 10m), "
                        + "got '" + v + "'");
            }
            return Instant.now().plus(d);
        }
    }

    static Duration duration(String name, String v) throws UsageException {
        Duration d = parseDuration(v);
        if (d == null) {
            throw new UsageException(name + " must be a duration such as PT10S, 10s, 5m, 2h or 1d, got '" + v + "'");
        }
        return d;
    }

    /** ISO-8601 or a count with a unit; null when neither, or negative. */
    static Duration parseDuration(String v) {
        Matcher m = SHORT_DURATION.matcher(v);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            Duration d = Duration.parse(v);
            return d.isNegative() ? null : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static Instant instant(String name, String v) throws UsageException {
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw new UsageException(name + " must be an instant such as 2026-01-01T00:00:00Z, got '" + v + "'");
        }
    }

    static int count(String name, String v, int max) throws UsageException {
        try {
            int n = Integer.parseInt(v);
            if (n < 1 || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be an integer from 1 to " + max + ", got '" + v + "'");
        }
    }

    /** {@code fire-once} for {@code FIRE_ONCE}: the flags' spelling of the enums. */
    static <E extends Enum<E>> E choice(String name, String v, Class<E> type) throws UsageException {
        for (E e : type.getEnumConstants()) {
            if (option(e).equals(v.toLowerCase(Locale.ROOT))) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : ", ").append(option(e));
        }
        throw new UsageException(name + " must be one of " + allowed + ", got '" + v + "'");
    }

    static String option(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static Map<String, Object> payload(String v) throws UsageException {
        try {
            Map<String, Object> m = JSON.readValue(v, new TypeReference<Map<String, Object>>() { });
            if (m == null) {
                throw new UsageException("--payload must be a JSON object, got 'null'");
            }
            return m;
        } catch (JsonProcessingException e) {
            throw new UsageException("--payload must be a JSON object such as '{\"format\":\"pdf\"}': "
                    + e.getOriginalMessage());
        }
    }
}
