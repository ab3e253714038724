package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Proves WireCodec's hand-written UTC timestamp parser agrees with Instant.parse and defers every shape it does not handle. */
class FastUtcInstantTest {

    /** Fixed, so a failure names an input that reproduces. */
    private static final long SEED = 20261128L;
    private static final long MIN_SECOND = LocalDateTime.of(0, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    private static final long MAX_SECOND = LocalDateTime.of(9999, 12, 31, 23, 59, 59).toEpochSecond(ZoneOffset.UTC);

    private static void assertAgreesAndIsFast(String text) {
        Instant fast = WireCodec.fastUtcInstant(text);
        assertNotNull(fast, "the common UTC shape should take the fast path: " + text);
        assertEquals(Instant.parse(text), fast, text);
    }

    /** The property that matters for correctness: whatever the fast path accepts, it reads as Instant.parse does. */
    private static void assertNeverDisagrees(String text) {
        Instant fast = WireCodec.fastUtcInstant(text);
        if (fast == null) {
            return;
        }
        Instant parsed;
        try {
            parsed = Instant.parse(text);
        } catch (DateTimeParseException e) {
            fail("fast path accepted '" + text + "' as " + fast + " but Instant.parse rejects it: " + e.getMessage());
            return;
        }
        assertEquals(parsed, fast, text);
    }

    private static String format(long epochSecond, int nanos, int fractionDigits) {
        String base = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC).toString();
        // LocalDateTime drops ":00" seconds; the wire always has them.
        if (base.length() == 16) {
            base += ":00";
        }
        if (fractionDigits == 0) {
            return base + "Z";
        }
        return base + "." + String.format("%09d", nanos).substring(0, fractionDigits) + "Z";
    }

    @Test
    void everyFractionWidthFromZeroToNine() {
        for (int digits = 0; digits <= 9; digits++) {
            assertAgreesAndIsFast(format(1_700_000_000L, 123_456_789, digits));
            assertAgreesAndIsFast(format(1_700_000_000L, 0, digits));
            assertAgreesAndIsFast(format(1_700_000_000L, 999_999_999, digits));
        }
        assertEquals(Instant.ofEpochSecond(0, 500_000_000), WireCodec.fastUtcInstant("1970-01-01T00:00:00.5Z"));
        assertEquals(Instant.ofEpochSecond(0, 1), WireCodec.fastUtcInstant("1970-01-01T00:00:00.000000001Z"));
    }

    @Test
    void boundaryDates() {
        for (String s : List.of(
                "1970-01-01T00:00:00Z",
                "1969-12-31T23:59:59.999999999Z",
                "2000-02-29T12:00:00Z",
                "2024-02-29T23:59:59Z",
                "2023-12-31T23:59:59.999Z",
                "2100-12-31T23:59:59.999999999Z",
                "2100-02-28T00:00:00Z",
                "0000-01-01T00:00:00Z",
                "0000-02-29T00:00:00Z",
                "9999-12-31T23:59:59.999999999Z")) {
            assertAgreesAndIsFast(s);
        }
    }

    @Test
    void instantToStringOfRandomInstants() {
        Random random = new Random(SEED);
        List<Instant> instants = new ArrayList<>(List.of(
                Instant.EPOCH,
                Instant.parse("2000-02-29T00:00:00Z"),
                Instant.parse("2100-12-31T23:59:59.999999999Z")));
        for (int i = 0; i < 20_000; i++) {
            long second = MIN_SECOND + Math.floorMod(random.nextLong(), MAX_SECOND - MIN_SECOND + 1);
            // Instant.toString prints 0, 3, 6 or 9 digits depending on the trailing zeros: cover each.
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            instants.add(Instant.ofEpochSecond(second, nanos));
        }
        for (Instant instant : instants) {
            String text = instant.toString();
            assertEquals(instant, WireCodec.fastUtcInstant(text), text);
        }
    }

    @Test
    void randomInstantsWithEveryFractionWidth() {
        Random random = new Random(SEED + 1);
        for (int i = 0; i < 20_000; i++) {
            long second = MIN_SECOND + Math.floorMod(random.nextLong(), MAX_SECOND - MIN_SECOND + 1);
            assertAgreesAndIsFast(format(second, random.nextInt(1_000_000_000), i % 10));
        }
    }

    @Test
    void invalidFieldsAreLeftToTheGeneralParser() {
        for (String s : List.of(
                "2023-02-29T00:00:00Z",
                "1900-02-29T00:00:00Z",
                "2023-04-31T00:00:00Z",
                "2023-13-01T00:00:00Z",
                "2023-00-01T00:00:00Z",
                "2023-01-00T00:00:00Z",
                "2023-01-32T00:00:00Z",
                "2023-01-01T24:00:00Z",
                "2023-01-01T25:00:00Z",
                "2023-01-01T00:60:00Z",
                "2023-01-01T00:00:60Z",
                "2023-01-01T00:00:61Z")) {
            assertNull(WireCodec.fastUtcInstant(s), s);
        }
    }

    @Test
    void otherShapesAreLeftToTheGeneralParser() {
        for (String s : List.of(
                "2023-01-01T00:00:00+02:00",
                "2023-01-01T00:00:00.123+02:00",
                "2023-01-01T00:00:00-05:00",
                "2023-01-01T00:00:00+00:00",
                "2023-01-01T00:00:00z",
                "2023-01-01t00:00:00Z",
                "2023-01-01 00:00:00Z",
                "2023-01-01T00:00Z",
                "2023-01-01T00:00:00",
                "2023-01-01T00:00:00.Z",
                "2023-01-01T00:00:00.1234567890Z",
                "2023-01-01T00:00:00,5Z",
                "2023-01-01T00:00:00.5.Z",
                "2023-01-01T00:00:001Z",
                "+2023-01-01T00:00:00Z",
                "-2023-01-01T00:00:00Z",
                "+10000-01-01T00:00:00Z",
                "23-01-01T00:00:00Z",
                "2023-1-01T00:00:00Z",
                "2023-01-1T00:00:00Z",
                "2023-01-01T0:00:00Z",
                "2023/01/01T00:00:00Z",
                "2023-01-01T00-00-00Z",
                "2O23-01-01T00:00:00Z",
                "2023-0a-01T00:00:00Z",
                "2023-01-01T00:00:0xZ",
                "2023-01-01T00:00:00.12a4Z",
                "2023-01-01T00:00:00.-1Z",
                "2023-01-01T00:00:00. 1Z",
                "2023-01-01T0-:00:00Z",
                "2023-01-01T00:00:00.\u0661\u0662Z",
                "\uFF12023-01-01T00:00:00Z",
                "Z",
                "yesterday",
                "                    ",
                "2023-01-01T00:00:00.000000000000000000Z")) {
            assertNull(WireCodec.fastUtcInstant(s), s);
        }
    }

    @Test
    void mutatedTimestampsAreNeverMisread() {
        Random random = new Random(SEED + 2);
        char[] alphabet = "0123456789-:T.Zz+ /a".toCharArray();
        for (int i = 0; i < 50_000; i++) {
            long second = MIN_SECOND + Math.floorMod(random.nextLong(), MAX_SECOND - MIN_SECOND + 1);
            StringBuilder s = new StringBuilder(format(second, random.nextInt(1_000_000_000), random.nextInt(10)));
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int at = random.nextInt(s.length() + 1);
                switch (random.nextInt(3)) {
                    case 0 -> {
                        if (at < s.length()) {
                            s.setCharAt(at, alphabet[random.nextInt(alphabet.length)]);
                        }
                    }
                    case 1 -> s.insert(at, alphabet[random.nextInt(alphabet.length)]);
                    default -> {
                        if (at < s.length()) {
                            s.deleteCharAt(at);
                        }
                    }
                }
            }
            assertNeverDisagrees(s.toString());
        }
    }

    @Test
    void decodingStillRejectsAnInvalidTimestampNamingTheField() {
        WireCodec codec = new WireCodec(1000);
        for (String bad : List.of("2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01T00:60:00Z",
                "2023-01-01T24:01:00Z", "2023-01-01T00:00:0xZ", "2023-01-01T00:00:00.1234567890Z")) {
            Delivery d = codec.decode("1-0", entry(bad));
            assertTrue(d.isMalformed(), "expected malformed: " + bad);
            assertTrue(d.decodeError().contains("timestamp"), "reason '" + d.decodeError() + "' lacks 'timestamp'");
            assertTrue(d.decodeError().contains(bad), "reason '" + d.decodeError() + "' lacks the value");
        }
    }

    @Test
    void decodingReadsFastAndFallbackShapesAlike() {
        WireCodec codec = new WireCodec(1000);
        Instant expected = Instant.parse("2025-03-01T22:00:00.120Z");
        for (String same : List.of("2025-03-01T22:00:00.120Z", "2025-03-01T22:00:00.12Z",
                "2025-03-01T23:00:00.12+01:00", "2025-03-01t22:00:00.120z")) {
            Delivery d = codec.decode("1-0", entry(same));
            assertFalse(d.isMalformed(), same + ": " + d.decodeError());
            assertEquals(expected, d.event().timestamp(), same);
        }
    }

    private static Map<String, String> entry(String timestamp) {
        Map<String, String> f = new HashMap<>();
        f.put("event_id", "e-1");
        f.put("event_type", "TICKET_CREATED");
        f.put("timestamp", timestamp);
        f.put("payload_json", "{}");
        return f;
    }
}
