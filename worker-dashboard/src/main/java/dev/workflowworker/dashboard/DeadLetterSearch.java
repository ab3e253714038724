package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.WorkflowAdmin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Searches dead letters newest first with bounded work per request: each call reads at most
 * {@code scanBudget} entries (XREVRANGE with COUNT from the cursor) and returns the matches found
 * plus a cursor to continue from. A rare match in a large dead-letter stream therefore takes
 * several calls, each of them fast, instead of one call that scans everything (see
 * docs/ARCHITECTURE.md, "Dashboard").
 */
final class DeadLetterSearch {

    /** What to look for; blank criteria match everything. */
    record Criteria(String eventType, String tenant, String text) {

        Criteria {
            eventType = blankToNull(eventType);
            tenant = blankToNull(tenant);
            text = blankToNull(text) == null ? null : text.trim().toLowerCase(Locale.ROOT);
        }

        boolean any() {
            return eventType != null || tenant != null || text != null;
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s.trim();
        }
    }

    /** One dead letter as a list row. */
    record Summary(String id, String movedAt, String eventType, String tenant, String eventId, String executionId,
                   String category, String attempts, String error) {
    }

    /**
     * A page of matches.
     *
     * @param items   the matches, newest first
     * @param cursor  where the next call continues, or null when the stream was read to its end
     * @param scanned how many entries this call read
     */
    record Page(List<Summary> items, String cursor, int scanned) {
    }

    private static final int BATCH = 250;

    private final WorkflowAdmin admin;
    private final int scanBudget;

    DeadLetterSearch(WorkflowAdmin admin, int scanBudget) {
        this.admin = admin;
        this.scanBudget = scanBudget;
    }

    /**
     * Why {@code id} is not a dead-letter id of the admin's stream, or null when it is one. The
     * admin's own parser decides, so the page accepts exactly the ids the admin lists, in either
     * form (plain for a shared stream, {@code partition/id} for a partitioned one).
     */
    static String wrongId(WorkflowAdmin admin, String id) {
        try {
            admin.requireDeadLetterId(id);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    Page search(Criteria criteria, String cursor, int limit) {
        List<Summary> items = new ArrayList<>();
        String before = cursor;
        int scanned = 0;
        boolean exhausted = false;
        while (items.size() < limit && scanned < scanBudget) {
            // Unfiltered, a page is exactly what is asked for; filtered, read in batches up to the budget.
            int ask = criteria.any() ? Math.min(BATCH, scanBudget - scanned) : limit - items.size();
            List<RedisDeadLetters.Entry> batch = admin.deadLettersNewestFirst(before, ask);
            boolean leftSome = false;
            for (int i = 0; i < batch.size(); i++) {
                RedisDeadLetters.Entry e = batch.get(i);
                scanned++;
                before = e.id();
                Summary s = summarise(e);
                if (matches(criteria, s, e)) {
                    items.add(s);
                    if (items.size() == limit) {
                        leftSome = i < batch.size() - 1;
                        break;
                    }
                }
            }
            if (batch.size() < ask) {
                // A short batch is the end of the stream, unless the page filled up before its last entry.
                exhausted = !leftSome;
                break;
            }
        }
        return new Page(items, exhausted ? null : before, scanned);
    }

    Summary summarise(RedisDeadLetters.Entry e) {
        JsonNode original = original(e);
        return new Summary(e.id(), e.fields().getOrDefault(DeadLetterFormat.MOVED_AT, ""),
                text(original, WireFormat.EVENT_TYPE), text(original, WireFormat.TENANT),
                text(original, WireFormat.EVENT_ID), text(original, WireFormat.EXECUTION_ID), e.errorCategory(),
                e.fields().getOrDefault(DeadLetterFormat.ATTEMPTS, ""), OutcomeLog.truncate(e.errorMessage()));
    }

    JsonNode original(RedisDeadLetters.Entry e) {
        try {
            JsonNode n = Responses.JSON.readTree(e.originalMessage());
            return n != null && n.isObject() ? n : null;
        } catch (java.io.IOException | RuntimeException ex) {
            // A foreign producer's entry may hold anything; the page then shows the raw text.
            return null;
        }
    }

    private static boolean matches(Criteria c, Summary s, RedisDeadLetters.Entry e) {
        if (c.eventType() != null && !c.eventType().equalsIgnoreCase(s.eventType())) {
            return false;
        }
        if (c.tenant() != null && !c.tenant().equalsIgnoreCase(s.tenant())) {
            return false;
        }
        if (c.text() != null) {
            return contains(e.errorMessage(), c.text()) || contains(s.eventId(), c.text())
                    || contains(s.executionId(), c.text());
        }
        return true;
    }

    private static boolean contains(String haystack, String lowerNeedle) {
        return haystack != null && haystack.toLowerCase(Locale.ROOT).contains(lowerNeedle);
    }

    private static String text(JsonNode n, String field) {
        if (n == null) {
            return null;
        }
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
