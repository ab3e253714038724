package dev.workflowworker.redis.chaos;

import dev.workflowworker.redis.PartitionRouting;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.resps.StreamEntry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * When the partitioned chaos run's wait ends with delayed events or schedule occurrences that have
 * no applied effect, tells a late one from a lost one: first what Redis holds of each at the
 * deadline (waiting in its partition's delayed set, its schedule's state and due place, an entry in
 * the partition stream above or at the committed position, settled, in the recent completions, in
 * the dead letters; handler starts and successes in the ledger), then it keeps listening and
 * records when each arrives. One that arrives was late; one that never does, with nothing of it
 * waiting in Redis, was lost, and the first part says where it was last seen.
 */
final class ChaosMissing {

    /** One expected id: a delayed event or an occurrence, its execution and due time (ms). */
    record Expected(String id, String execution, long due, boolean occurrence) {
    }

    private final int partitions;
    private final IntFunction<String> partitionKey;
    private final Supplier<UnifiedJedis> queue;

    ChaosMissing(int partitions, IntFunction<String> partitionKey, Supplier<UnifiedJedis> queue) {
        this.partitions = partitions;
        this.partitionKey = partitionKey;
        this.queue = queue;
    }

    /**
     * What Redis and the ledger hold of each missing id, then, listening up to {@code listenMillis}
     * more, when each arrived after {@code deadlineMillis}; the text ends the run's failure.
     */
    String explain(Jedis ledger, List<Expected> missing, long deadlineMillis, long listenMillis) {
        StringBuilder sb = new StringBuilder();
        sb.append(missing.size()).append(" delayed event(s) or occurrence(s) without an applied effect at the deadline ")
                .append(java.time.Instant.ofEpochMilli(deadlineMillis)).append(":\n");
        for (Expected e : missing) {
            sb.append("  ").append(describe(ledger, e, deadlineMillis)).append('\n');
        }
        Map<String, Long> arrived = new LinkedHashMap<>();
        long until = System.currentTimeMillis() + listenMillis;
        while (arrived.size() < missing.size() && System.currentTimeMillis() < until) {
            for (Expected e : missing) {
                try {
                    if (!arrived.containsKey(e.id()) && ledger.hexists(ChaosWorkerMain.DONE, e.id())) {
                        arrived.put(e.id(), System.currentTimeMillis());
                    }
                } catch (RuntimeException ex) {
                    // The ledger's Redis is busy: look again.
                }
            }
            sleepQuietly(200);
        }
        sb.append("listened ").append(listenMillis / 1000).append(" s more:\n");
        for (Expected e : missing) {
            Long at = arrived.get(e.id());
            sb.append("  ").append(e.id()).append(at == null
                    ? ": never arrived (LOST unless still waiting: " + describe(ledger, e, deadlineMillis) + ")"
                    : ": LATE, effect applied " + (at - deadlineMillis) + " ms after the deadline, "
                    + (at - e.due()) + " ms after its due time").append('\n');
        }
        sb.append(logLines(missing));
        return sb.toString();
    }

    /** One line: the id, its due time relative to the deadline, and everything found of it. */
    private String describe(Jedis ledger, Expected e, long deadlineMillis) {
        int p = PartitionRouting.partitionOf(e.execution(), partitions);
        String key = partitionKey.apply(p);
        StringBuilder sb = new StringBuilder(e.id()).append(" (partition ").append(p).append(", due ")
                .append(deadlineMillis - e.due()).append(" ms before the deadline)");
        try {
            sb.append(": starts ").append(count(ledger, ChaosWorkerMain.STARTS, e.id()))
                    .append(", successes ").append(count(ledger, ChaosWorkerMain.SUCCEEDED, e.id()));
        } catch (RuntimeException ex) {
            sb.append(": ledger unreadable ").append(ex);
        }
        try (UnifiedJedis j = queue.get()) {
            if (e.occurrence()) {
                sb.append("; schedule state ").append(j.hget(key + ":sched:st", ChaosTime.SCHEDULE))
                        .append(", due place ").append(j.zscore(key + ":sched:due", ChaosTime.SCHEDULE));
            } else {
                sb.append("; delayed set ").append(j.zscore(key + ":delayed", e.id()))
                        .append(", stored ").append(j.hexists(key + ":delayed:e", e.id()));
            }
            String c = j.hget(key + ":log", "c");
            List<String> entries = entriesOf(j, key, e.id());
            sb.append("; stream entries ").append(entries).append(" (committed ").append(c).append(", settled ")
                    .append(entries.stream().filter(id -> j.sismember(key + ":settled", id)).toList())
                    .append("), in recent ").append(inRecent(j, key + ":recent", e.id()))
                    .append(", completed ").append(j.zscore(key + ":completed", e.id()))
                    .append(", dead letters ").append(entriesOf(j, key + ":dlq", e.id()).size())
                    .append("; lease ").append(j.get(key + ":lease")).append(" (pttl ").append(j.pttl(key + ":lease"))
                    .append(" ms)");
        } catch (RuntimeException ex) {
            sb.append("; queue unreadable ").append(ex);
        }
        return sb.toString();
    }

    private static long count(Jedis ledger, String set, String id) {
        long n = 0;
        String cursor = ScanParams.SCAN_POINTER_START;
        ScanParams match = new ScanParams().match(id + "|*").count(1000);
        do {
            ScanResult<String> r = ledger.sscan(set, cursor, match);
            n += r.getResult().size();
            cursor = r.getCursor();
        } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
        return n;
    }

    /** The ids of a stream's entries for {@code eventId}, in either form (named fields, or compact: first value the id). */
    private static List<String> entriesOf(UnifiedJedis j, String stream, String eventId) {
        List<String> out = new ArrayList<>();
        if (!j.exists(stream)) {
            return out;
        }
        String compact = eventId.getBytes(StandardCharsets.UTF_8).length + ":" + eventId;
        String from = "-";
        while (true) {
            List<StreamEntry> page = j.xrange(stream, from, "+", 1000);
            for (StreamEntry x : page) {
                Map<String, String> f = x.getFields();
                String compactValue = f.get("e:1");
                if (eventId.equals(f.get("event_id")) || (compactValue != null && compactValue.startsWith(compact))) {
                    out.add(x.getID().toString());
                }
            }
            if (page.size() < 1000) {
                return out;
            }
            from = "(" + page.get(page.size() - 1).getID();
        }
    }

    /** Whether a commit of {@code eventId}'s success pushed it to the recent list ("k|" then "length:id" each). */
    private static boolean inRecent(UnifiedJedis j, String recent, String eventId) {
        if (!j.exists(recent)) {
            return false;
        }
        for (String packed : j.lrange(recent, 0, -1)) {
            int at = packed.indexOf('|') + 1;
            while (at > 0 && at < packed.length()) {
                int colon = packed.indexOf(':', at);
                if (colon < 0) {
                    break;
                }
                int len = Integer.parseInt(packed.substring(at, colon));
                if (packed.startsWith(eventId, colon + 1) && len == eventId.length()) {
                    return true;
                }
                at = colon + 1 + len;
            }
        }
        return false;
    }

    /** The workers' log lines naming a missing id, a few per id. */
    private static String logLines(List<Expected> missing) {
        Path log = Path.of("target", "chaos-workers.log");
        StringBuilder sb = new StringBuilder();
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
            for (Expected e : missing) {
                lines.stream().filter(l -> l.contains(e.id())).limit(5)
                        .forEach(l -> sb.append("  log: ").append(l).append('\n'));
            }
        } catch (IOException | java.io.UncheckedIOException ex) {
            sb.append("  workers' log unreadable: ").append(ex).append('\n');
        }
        return sb.toString();
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
