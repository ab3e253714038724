package dev.workflowworker.redis.internal.client;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.wire.WireFormat;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compact entry's codec against the named fields' decoding, byte for byte. */
class CompactEntryTest {

    private static final WireFormat CODEC = WireFormat.defaults();

    private static Map<String, String> fields(String id) {
        return CODEC.encode(WorkflowEvent.builder("STEP").eventId(id).executionId("x-" + id).eventName("Ärger 😀")
                .tenant("t").timestamp(Instant.parse("2026-01-02T03:04:05Z")).userId("u")
                .payload(Map.of("k", "v:1", "nested", Map.of("a", List.of(1, 2)))).headers(Map.of("h", "1:2")).build(), 1);
    }

    private static List<Object> raw(Map<String, String> fields) {
        List<Object> raw = new ArrayList<>();
        fields.forEach((k, v) -> {
            raw.add(k.getBytes(StandardCharsets.UTF_8));
            raw.add(v.getBytes(StandardCharsets.UTF_8));
        });
        return raw;
    }

    private static List<Object> compactRaw(byte[] value) {
        return List.of(CompactEntry.FIELD.getBytes(StandardCharsets.UTF_8), value);
    }

    @Test
    void aCompactEntryDecodesToTheDeliveryOfItsNamedFields() {
        Map<String, String> f = fields("e-1");
        Map<String, String> entry = CompactEntry.entry(f);
        assertEquals(List.of(CompactEntry.FIELD), List.copyOf(entry.keySet()));
        Delivery compact = StreamEntries.toDelivery("1-0", compactRaw(
                entry.get(CompactEntry.FIELD).getBytes(StandardCharsets.UTF_8)), CODEC);
        Delivery named = StreamEntries.toDelivery("1-0", raw(f), CODEC);
        assertNull(compact.decodeError(), compact.decodeError());
        assertEquals(named.event(), compact.event());
        assertEquals(named.fields(), compact.fields());
        assertEquals(List.copyOf(named.fields().keySet()), List.copyOf(compact.fields().keySet()), "same order");
        assertEquals(1, compact.attempt());
    }

    @Test
    void onlyTheElevenWireFieldsAreWrittenCompact() {
        Map<String, String> f = new LinkedHashMap<>(fields("e-2"));
        f.put(WireFormat.ATTEMPT, "3");
        assertFalse(CompactEntry.fits(f));
        assertSame(f, CompactEntry.entry(f));
        Map<String, String> extra = new LinkedHashMap<>(fields("e-3"));
        extra.put("source", "crm");
        assertSame(extra, CompactEntry.entry(extra));
        Map<String, String> missing = new LinkedHashMap<>(fields("e-4"));
        missing.remove(WireFormat.USER_ID);
        assertSame(missing, CompactEntry.entry(missing));
    }

    @Test
    void theRoutersCopyOfRawFieldsIsTheSameValueInAnyOrderAndKeepsBadBytes() {
        Map<String, String> f = fields("e-5");
        List<Object> raw = raw(f);
        byte[] fromRaw = CompactEntry.fromRaw(raw);
        assertEquals(CompactEntry.value(f), new String(fromRaw, StandardCharsets.UTF_8));
        // pairs shuffled: the same value
        List<List<Object>> pairs = new ArrayList<>();
        for (int i = 0; i < raw.size(); i += 2) {
            pairs.add(List.of(raw.get(i), raw.get(i + 1)));
        }
        Collections.reverse(pairs);
        List<Object> reversed = new ArrayList<>();
        pairs.forEach(reversed::addAll);
        assertEquals(CompactEntry.value(f), new String(CompactEntry.fromRaw(reversed), StandardCharsets.UTF_8));
        // a duplicate name or a twelfth field: not compact
        List<Object> dup = new ArrayList<>(raw);
        dup.set(2, raw.get(0));
        assertNull(CompactEntry.fromRaw(dup));
        List<Object> twelve = new ArrayList<>(raw);
        twelve.add("source".getBytes(StandardCharsets.UTF_8));
        twelve.add("x".getBytes(StandardCharsets.UTF_8));
        assertNull(CompactEntry.fromRaw(twelve));
        // a value that is not UTF-8 is carried as it is, and the reader names it
        List<Object> bad = new ArrayList<>(raw);
        bad.set(7, new byte[] {(byte) 0xFF, (byte) 0xFE});
        Delivery d = StreamEntries.toDelivery("1-0", compactRaw(CompactEntry.fromRaw(bad)), CODEC);
        assertEquals("field 'event_type' is not valid UTF-8 (2 bytes)", d.decodeError());
        assertEquals("e-5", d.fields().get(WireFormat.EVENT_ID), "the dead letter names the event");
    }

    @Test
    void lengthsAreTheBytesTheClientSends() {
        for (String s : List.of("", "abc", "é", "€", "😀", "a😀b", "\uD83D", "x\uDE00y", "\uDE00\uD83D", "ÿ€😀\uD800")) {
            assertEquals(s.getBytes(StandardCharsets.UTF_8).length, CompactEntry.utf8Length(s), s);
        }
        // an unpaired surrogate is sent as '?', which the value's length counts
        Map<String, String> f = new LinkedHashMap<>(fields("e-6"));
        f.put(WireFormat.USER_ID, "a\uD800b");
        byte[] sent = CompactEntry.value(f).getBytes(StandardCharsets.UTF_8);
        Delivery d = StreamEntries.toDelivery("1-0", compactRaw(sent), CODEC);
        assertNull(d.decodeError(), d.decodeError());
        assertEquals("a?b", d.event().userId());
    }

    @Test
    void aReaderOfNamedFieldsOnlyDeadLettersACompactEntryWithItsBytesIntact() {
        // What versions before the compact form run on every entry: the entry is malformed (never
        // run), and as the value is valid UTF-8 the dead letter holds it exactly, for a later replay.
        String value = CompactEntry.value(fields("e-7"));
        Delivery old = StreamEntries.named("1-0", compactRaw(value.getBytes(StandardCharsets.UTF_8)), CODEC);
        assertTrue(old.isMalformed());
        assertEquals("missing required field 'event_id'", old.decodeError());
        assertEquals(Map.of(CompactEntry.FIELD, value), old.fields());
    }

    @Test
    void anEntryWithTheFieldNameOfAnotherKindIsReadAsNamedFields() {
        // "e:x" is not of the family: read as a named field, as before
        Delivery d = StreamEntries.toDelivery("1-0", List.of("e:x".getBytes(StandardCharsets.UTF_8),
                "v".getBytes(StandardCharsets.UTF_8)), CODEC);
        assertEquals("missing required field 'event_id'", d.decodeError());
        assertTrue(d.fields().containsKey("e:x"));
    }

    @Test
    void aBrokenEntryNamesTheIdsReadBeforeTheBreakSoItsDeadLetterCanBeFound() {
        byte[] whole = CompactEntry.entry(fields("e-7")).get(CompactEntry.FIELD).getBytes(StandardCharsets.UTF_8);
        // Cut inside the third value: event_id and execution_id were read cleanly, the rest is lost.
        String text = new String(whole, StandardCharsets.UTF_8);
        int third = text.indexOf("x-e-7") + "x-e-7".length() + 3;
        byte[] cut = java.util.Arrays.copyOf(whole, third);
        Delivery d = StreamEntries.toDelivery("1-0", compactRaw(cut), CODEC);
        assertTrue(d.isMalformed());
        assertTrue(d.decodeError().endsWith("(read before it: event_id 'e-7', execution_id 'x-e-7')"),
                d.decodeError());
        assertEquals(Map.of(CompactEntry.FIELD, new String(cut, StandardCharsets.UTF_8)), d.fields(),
                "the dead letter still keeps the raw field alone, so a replay fails for the same reason");

        // Broken before any value: nothing to name.
        Delivery none = StreamEntries.toDelivery("1-0", compactRaw("x:".getBytes(StandardCharsets.UTF_8)), CODEC);
        assertFalse(none.decodeError().contains("read before it"), none.decodeError());
    }
}
