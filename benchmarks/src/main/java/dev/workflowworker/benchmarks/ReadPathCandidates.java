package dev.workflowworker.benchmarks;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.util.SafeEncoder;

import java.util.ArrayList;
import java.util.List;

import static dev.workflowworker.benchmarks.ReadPathScenario.COUNT;
import static dev.workflowworker.benchmarks.ReadPathScenario.LEASE;
import static dev.workflowworker.benchmarks.ReadPathScenario.P;
import static dev.workflowworker.benchmarks.ReadPathScenario.args;
import static dev.workflowworker.benchmarks.ReadPathScenario.count;
import static dev.workflowworker.benchmarks.ReadPathScenario.entries;
import static dev.workflowworker.benchmarks.ReadPathScenario.entriesOf;
import static dev.workflowworker.benchmarks.ReadPathScenario.eventIds;
import static dev.workflowworker.benchmarks.ReadPathScenario.ids;
import static dev.workflowworker.benchmarks.ReadPathScenario.key;
import static dev.workflowworker.benchmarks.ReadPathScenario.lease;
import static dev.workflowworker.benchmarks.ReadPathScenario.measure;
import static dev.workflowworker.benchmarks.ReadPathScenario.pipeline;
import static dev.workflowworker.benchmarks.ReadPathScenario.pipelineRaw;
import static dev.workflowworker.benchmarks.ReadPathScenario.pipelineRawAll;
import static dev.workflowworker.benchmarks.ReadPathScenario.stream;

/**
 * The read paths that lost to the one built (docs/BENCHMARKS.md, "The read path, candidates"),
 * kept measurable beside it: a log with a bare position commit (A1), with a sorted set of
 * completed ids (A2), with packed ids (A3, what was built, without the lease GET), group reads
 * fenced by a transaction (B), and a duplicate check at publish.
 */
final class ReadPathCandidates {

    /** A1's commit: the lease, then the position (never backwards). */
    private static final String COMMIT_POSITION = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
            + "redis.call('SET', KEYS[2], ARGV[2]) return 1";
    /** A2's commit: A1's, and the event ids remembered for the duplicate check. */
    private static final String COMMIT_POSITION_REMEMBER = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
            + "redis.call('SET', KEYS[2], ARGV[2]) "
            + "for i = 3, #ARGV, 4000 do redis.call('ZADD', KEYS[3], unpack(ARGV, i, math.min(#ARGV, i + 3999))) end "
            + "return 1";
    /**
     * A3's commit: A1's, and the batch's event ids as one packed string on a capped list, which a
     * new owner loads into memory: the duplicate check then costs Redis nothing per event.
     */
    private static final String COMMIT_POSITION_PACKED = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
            + "redis.call('SET', KEYS[2], ARGV[2]) redis.call('RPUSH', KEYS[3], ARGV[3]) "
            + "redis.call('LTRIM', KEYS[3], -4096, -1) return 1";
    /** A1's publish: append unless the event id was seen. */
    private static final String PUBLISH_ONCE = "if redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2]) == 0 then return false end "
            + "return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))";

    private ReadPathCandidates() {
    }

    static void add(List<BenchmarkMain.Row> rows, String url, Jedis admin, Connection c, int perPartition, long total,
                    String commitSha) throws Exception {
        String positionSha = admin.scriptLoad(COMMIT_POSITION);
        String rememberSha = admin.scriptLoad(COMMIT_POSITION_REMEMBER);
        String packedSha = admin.scriptLoad(COMMIT_POSITION_PACKED);
        String[] position = new String[P];
        rows.add(measure("A1: XREAD from position + position commit (duplicates at publish)", url, admin,
                perPartition, total, false, () -> {
            List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                    .add("STREAMS").add(stream(i)).add(position[i] == null ? "0-0" : position[i]));
            pipeline(c, i -> {
                List<String> ids = ids(entries(batches.get(i)));
                position[i] = ids.isEmpty() ? position[i] : ids.get(ids.size() - 1);
                return args(Protocol.Command.EVALSHA).add(positionSha).add(2).key(lease(i)).key(key(i, ":committed"))
                        .add(LEASE).add(position[i] == null ? "0-0" : position[i]);
            });
            return count(batches);
        }, "no group, no Lua on the read; the commit is a lease check and a SET"));

        String[] position2 = new String[P];
        rows.add(measure("A2: XREAD + ZMSCORE round trip + commit remembering ids", url, admin, perPartition,
                total, false, () -> {
            List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                    .add("STREAMS").add(stream(i)).add(position2[i] == null ? "0-0" : position2[i]));
            pipelineRaw(c, i -> {
                CommandArguments a = args(Protocol.Command.ZMSCORE).key(key(i, ":completed"));
                eventIds(entries(batches.get(i))).forEach(a::add);
                return a;
            });
            long now = System.currentTimeMillis();
            pipeline(c, i -> {
                List<String> ids = ids(entries(batches.get(i)));
                position2[i] = ids.isEmpty() ? position2[i] : ids.get(ids.size() - 1);
                CommandArguments a = args(Protocol.Command.EVALSHA).add(rememberSha).add(3).key(lease(i))
                        .key(key(i, ":committed")).key(key(i, ":completed")).add(LEASE)
                        .add(position2[i] == null ? "0-0" : position2[i]);
                for (String e : eventIds(entries(batches.get(i)))) {
                    a.add(now).add(e);
                }
                return a;
            });
            return count(batches);
        }, "duplicates recognised at read: one more round trip, ids remembered at commit"));

        String[] position3 = new String[P];
        java.util.Set<String> seen = new java.util.HashSet<>();
        rows.add(measure("A3: XREAD + commit with the batch's ids packed (duplicates checked in memory)", url,
                admin, perPartition, total, false, () -> {
            List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                    .add("STREAMS").add(stream(i)).add(position3[i] == null ? "0-0" : position3[i]));
            pipeline(c, i -> {
                List<String> ids = ids(batches.get(i));
                position3[i] = ids.isEmpty() ? position3[i] : ids.get(ids.size() - 1);
                List<String> eventIds = eventIds(batches.get(i));
                for (String e : eventIds) {
                    if (!seen.add(e)) {
                        throw new IllegalStateException("duplicate " + e);
                    }
                }
                if (seen.size() > 1_000_000) {
                    seen.clear();
                }
                return args(Protocol.Command.EVALSHA).add(packedSha).add(3).key(lease(i)).key(key(i, ":committed"))
                        .key(key(i, ":recent")).add(LEASE).add(position3[i] == null ? "0-0" : position3[i])
                        .add(String.join("\n", eventIds));
            });
            return count(batches);
        }, "ids remembered per batch, one list push; checked against the owner's memory"));

        rows.add(measure("B: WATCH+GET, MULTI/XREADGROUP/EXEC, ZMSCORE, ack+remember commit", url, admin,
                perPartition, total, true, () -> {
            List<Object> leases = pipelineRawAll(c, all -> {
                List<CommandArguments> out = new ArrayList<>();
                CommandArguments watch = args(Protocol.Command.WATCH);
                for (int i = 0; i < P; i++) {
                    watch.key(lease(i));
                }
                out.add(watch);
                for (int i = 0; i < P; i++) {
                    out.add(args(Protocol.Command.GET).key(lease(i)));
                }
                return out;
            });
            for (int i = 1; i <= P; i++) {
                if (!LEASE.equals(SafeEncoder.encode((byte[]) leases.get(i)))) {
                    throw new IllegalStateException("lease not held");
                }
            }
            List<Object> tx = pipelineRawAll(c, all -> {
                List<CommandArguments> out = new ArrayList<>();
                out.add(args(Protocol.Command.MULTI));
                for (int i = 0; i < P; i++) {
                    out.add(args(Protocol.Command.XREADGROUP).add("GROUP").add("g").add("owner").add("COUNT")
                            .add(COUNT).add("STREAMS").add(stream(i)).add(">"));
                }
                out.add(args(Protocol.Command.EXEC));
                return out;
            });
            List<?> exec = (List<?>) tx.get(tx.size() - 1);
            List<List<Object>> batches = new ArrayList<>();
            for (Object r : exec) {
                batches.add(r == null ? List.of() : entries(r));
            }
            pipelineRaw(c, i -> {
                CommandArguments a = args(Protocol.Command.ZMSCORE).key(key(i, ":completed"));
                eventIds(batches.get(i)).forEach(a::add);
                return a;
            });
            ReadPathScenario.groupCommit(c, commitSha, batches);
            return count(batches);
        }, "keeps the pending list; two round trips to read, one transaction for all partitions (one server only)"));

        rows.addAll(publishRows(url, admin, c));
    }

    /** The publish side of A1: what recognising a duplicate at publish costs beside a plain XADD. */
    private static List<BenchmarkMain.Row> publishRows(String url, Jedis admin, Connection c) throws Exception {
        String onceSha = admin.scriptLoad(PUBLISH_ONCE);
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        int n = 100_000;
        for (boolean once : new boolean[] {false, true}) {
            admin.flushAll();
            CpuMeter cpu = null;
            for (int b = -20; b < n / COUNT; b++) {
                if (b == 0) {
                    cpu = CpuMeter.start(url);
                }
                int base = (b + 20) * COUNT;
                List<CommandArguments> batch = new ArrayList<>(COUNT);
                for (int k = 0; k < COUNT; k++) {
                    int id = base + k;
                    String s = stream(id % P);
                    CommandArguments a = once
                            ? args(Protocol.Command.EVALSHA).add(onceSha).add(2).key(s).key(key(id % P, ":completed"))
                                    .add(1_764_990_000_000L + id).add("e-" + id)
                            : args(Protocol.Command.XADD).key(s).add("*");
                    a.add("event_id").add("e-" + id).add("execution_id").add("exec-" + (id % 64))
                            .add("event_type").add("TICKET_CREATED").add("payload_json").add("{\"ticket_id\":\"T-1\"}");
                    batch.add(a);
                }
                final List<CommandArguments> send = batch;
                pipelineRawAll(c, all -> send);
            }
            CpuMeter.Usage use = cpu.stop((long) n / COUNT * COUNT);
            rows.add(new BenchmarkMain.Row("read path", once ? "publish: script ZADD NX + XADD" : "publish: XADD",
                    use.redisMicrosPerEvent(), "us redis/event", use.commands()));
        }
        admin.flushAll();
        return rows;
    }
}
