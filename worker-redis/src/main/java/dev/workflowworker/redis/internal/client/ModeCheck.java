package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.RedisOptions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps a stream in one mode: the shared (unordered) mode, read through the consumer group, or the
 * partitioned (ordered) mode, whose router reads the stream through a group of its own created at
 * the stream's start. A partitioned start on a stream the shared group consumed would route and run
 * again every event that completed; a shared start beside partitioned instances would run events
 * twice and out of order. See docs/ARCHITECTURE.md, "One mode per stream".
 *
 * <p>Each mode writes its own mark first and then looks for the other's: the partitioned mode
 * records the partition count and then looks for the shared group; the shared mode creates its
 * group and then looks for the count and the router's group. Two instances starting in different
 * modes at once therefore cannot both miss each other: at least one fails, and it takes back the
 * mark it made.
 */
public final class ModeCheck {

    private static final Logger log = LoggerFactory.getLogger(ModeCheck.class);

    /** The stream's groups as a Lua table by name, for the switch's script. */
    private static final String GROUPS = """
            local function groups(stream)
              local names = {}
              if redis.call('EXISTS', stream) == 0 then
                return names
              end
              for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
                local info = {}
                for j = 1, #g, 2 do
                  info[g[j]] = g[j + 1]
                end
                names[info['name']] = info
              end
              return names
            end
            """;

    /**
     * KEYS[1] stream, KEYS[2] retry set, KEYS[3] dead-letter stream (all in the stream's slot on a
     * cluster); ARGV[1] shared group, ARGV[2] router group. Replaces a drained shared group by the
     * router's group at the shared group's last-delivered id: entries up to it were delivered and,
     * with nothing pending, settled, so the router starts after them; entries after it were never
     * delivered and are routed. Returns {id} or {'refused', why}.
     */
    private static final String SWITCH = GROUPS + """
            local names = groups(KEYS[1])
            if names[ARGV[2]] then
              return {'refused', 'the router group ' .. ARGV[2] .. ' exists already: the stream is partitioned'}
            end
            local g = names[ARGV[1]]
            if not g then
              return {'refused', 'the stream has no shared group ' .. ARGV[1] .. ' to switch from'}
            end
            if tonumber(g['pending']) > 0 then
              return {'refused', g['pending'] .. ' entries are pending in group ' .. ARGV[1]
                .. ' (delivered, not yet settled): let the shared workers finish them (or stop them and wait until '
                .. 'a restarted shared worker has claimed and settled them)'}
            end
            local retries = redis.call('ZCARD', KEYS[2])
            if retries > 0 then
              return {'refused', retries .. ' retries wait in ' .. KEYS[2]
                .. ': keep the shared workers running until they have run'}
            end
            if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('XLEN', KEYS[3]) > 0 then
              return {'refused', redis.call('XLEN', KEYS[3]) .. ' dead letters are in ' .. KEYS[3]
                .. ', which the partitioned mode does not read: replay them while the shared workers run, or purge them'}
            end
            if KEYS[4] and redis.call('ZCARD', KEYS[4]) > 0 then
              return {'refused', redis.call('ZCARD', KEYS[4]) .. ' delayed events wait in ' .. KEYS[4]
                .. ', which the partitioned mode does not read: keep the shared workers running until they are due, '
                .. 'or cancel them'}
            end
            if KEYS[5] and redis.call('HLEN', KEYS[5]) > 0 then
              return {'refused', redis.call('HLEN', KEYS[5]) .. ' schedules are kept in ' .. KEYS[5]
                .. ', which the partitioned mode does not read: delete them, and put them again once switched'}
            end
            local at = g['last-delivered-id']
            redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[2], at)
            redis.call('XGROUP', 'DESTROY', KEYS[1], ARGV[1])
            return {at}
            """;

    private ModeCheck() {
    }

    /**
     * Creates the shared group, or finds it, on a stream not in the partitioned mode.
     *
     * @throws IllegalStateException naming both modes if the stream is partitioned
     */
    public static void createSharedGroup(StreamClient t, String startId) {
        RedisOptions o = t.options();
        StreamKeys k = t.keys();
        if (groups(t).contains(k.routerGroup())) {
            throw sharedOnPartitioned(o, "the partitioned mode's router reads it through group " + k.routerGroup());
        }
        // Plain commands, not a script: a worker needs no more permissions than before, and a
        // missing one is named in Redis's NOPERM reply.
        boolean created = t.call("create consumer group", () -> t.createGroup(o.stream(), o.group(), startId));
        // Looked for again after the create: a partitioned start or a switch that came between
        // the first look and the create is seen now, and the group made meanwhile is taken back.
        String recorded = t.call("check the partition count", () -> t.redis().get(k.partitionCountKey()));
        String why = recorded != null
                ? "it was created with " + recorded + " partitions (recorded in " + k.partitionCountKey() + ")"
                : groups(t).contains(k.routerGroup())
                ? "the partitioned mode's router reads it through group " + k.routerGroup() : null;
        if (why != null) {
            if (created) {
                // Ours, made a moment ago: no shared worker has read through it. Best effort: the
                // refusal matters more than the leftover (a later partitioned start names it).
                try {
                    t.call("remove the consumer group", () -> t.redis().executeCommand(new CommandArguments(
                            Protocol.Command.XGROUP).add("DESTROY").key(o.stream()).add(o.group())));
                } catch (RuntimeException e) {
                    log.warn("could not remove consumer group {} of stream {} again: {}", o.group(), o.stream(),
                            e.toString());
                }
            }
            throw sharedOnPartitioned(o, why);
        }
        if (created) {
            log.info("Created consumer group {} on stream {} starting at '{}'", o.group(), o.stream(), startId);
        }
    }

    /**
     * Called by a partitioned start once it has recorded (or found) the partition count, before any
     * partition or the router is read.
     *
     * @param createdCount whether this start recorded the count, which it then takes back on refusal
     * @throws IllegalStateException naming both modes if the shared group consumes the stream
     */
    public static void checkPartitioned(StreamClient t, boolean createdCount) {
        RedisOptions o = t.options();
        StreamKeys k = t.keys();
        Set<String> groups = groups(t);
        if (!groups.contains(o.group())) {
            return;
        }
        if (createdCount) {
            t.call("take back the partition count", () -> t.redis().del(k.partitionCountKey()));
        }
        if (groups.contains(k.routerGroup())) {
            // Both marks: left by versions that did not check the mode, where both modes may have run.
            throw new IllegalStateException("partitions: stream " + o.stream() + " carries the marks of both modes: "
                    + "consumer group " + o.group() + " of the shared (unordered) mode and group " + k.routerGroup()
                    + " of the partitioned (ordered) mode's router. Stop every shared instance (partitions(0), "
                    + "WORKER_PARTITIONS=0); once its group has nothing pending, remove it with XGROUP DESTROY "
                    + o.stream() + " " + o.group() + " and start the partitioned instances again; see "
                    + "docs/operations.md, \"Switching a stream to the partitioned mode\"");
        }
        throw new IllegalStateException("partitions: this instance starts stream " + o.stream()
                + " in the partitioned (ordered) mode with " + o.partitions() + " partitions, but the stream is in "
                + "the shared (unordered) mode: consumer group " + o.group() + " reads it. Starting partitioned "
                + "here would run again every event the shared mode completed. Either keep the shared mode "
                + "(partitions(0), WORKER_PARTITIONS=0 or workflow.worker.redis.partitions=0), or migrate: let "
                + "the shared workers drain the group (nothing pending, no retries waiting), then run `admin "
                + "switch-to-partitioned` (WorkflowAdmin.switchToPartitioned), then start the partitioned "
                + "instances; see docs/operations.md, \"Switching a stream to the partitioned mode\"");
    }

    /**
     * Switches a drained shared stream to the partitioned mode; see
     * {@link dev.workflowworker.redis.WorkflowAdmin#switchToPartitioned(int)}.
     *
     * @return the id after which the router starts
     * @throws IllegalStateException saying why the stream cannot be switched
     */
    public static String switchToPartitioned(StreamClient t, int partitions) {
        RedisOptions o = t.options();
        StreamKeys k = t.keys();
        String recorded = t.call("read the partition count", () -> t.redis().get(k.partitionCountKey()));
        if (recorded != null) {
            throw new IllegalStateException("stream " + o.stream() + " is partitioned already (" + recorded
                    + " partitions, recorded in " + k.partitionCountKey() + ")");
        }
        // Once: a repeat after a lost reply would find the router's group and refuse, hiding the success.
        // The shared stream's delayed events and schedules too, in the stream's slot: the partitions never read them.
        String time = k.sharedTime();
        List<String> keys = time == null ? List.of(o.stream(), o.retryKey(), o.deadLetterStream())
                : List.of(o.stream(), o.retryKey(), o.deadLetterStream(), time + ":delayed", time + ":sched");
        List<?> reply = (List<?>) t.callOnce("switch " + o.stream() + " to the partitioned mode", () -> eval(t,
                SWITCH, keys, List.of(o.group(), k.routerGroup())));
        if (reply.size() == 2) {
            throw new IllegalStateException("cannot switch stream " + o.stream()
                    + " to the partitioned mode: " + StreamEntries.text(reply.get(1)));
        }
        String at = StreamEntries.text(reply.get(0));
        // The router's group is the mark a shared start refuses on; the count is fixed here so
        // that every partitioned instance must agree with it. NX: a partitioned instance that
        // started meanwhile recorded its own count, which the first start then checks as usual.
        t.call("record the partition count", () -> t.redis().set(k.partitionCountKey(), Integer.toString(partitions),
                redis.clients.jedis.params.SetParams.setParams().nx()));
        log.info("Switched stream {} to the partitioned mode ({} partitions): the router starts after {}, group {} "
                + "removed", o.stream(), partitions, at, o.group());
        return at;
    }

    /**
     * Runs a script by its SHA1 right after loading it: the commands a worker is already allowed
     * ({@code script|load}, {@code evalsha}), not {@code eval}, and rare enough not to be cached.
     */
    private static Object eval(StreamClient t, String source, List<String> keys, List<String> args) {
        String sha = t.redis().scriptLoad(source, keys.get(0));
        return t.redis().evalsha(sha, keys, args);
    }

    /** {@return the names of the stream's groups; none when the stream does not exist} */
    public static Set<String> groups(StreamClient t) {
        RedisOptions o = t.options();
        StreamKeys k = t.keys();
        Object reply;
        try {
            reply = t.call("read the groups of " + o.stream(), () -> t.redis().executeCommand(
                    new CommandArguments(Protocol.Command.XINFO).add("GROUPS").key(o.stream())));
        } catch (JedisDataException e) {
            if (e.getMessage() != null && e.getMessage().contains("no such key")) {
                return Set.of();
            }
            throw e;
        }
        Set<String> names = new HashSet<>();
        for (Object g : (List<?>) reply) {
            names.add(StreamEntries.text(StreamEntries.pairs((List<?>) g).get("name")));
        }
        return names;
    }

    private static IllegalStateException sharedOnPartitioned(RedisOptions o, String why) {
        return new IllegalStateException("partitions: this instance starts stream " + o.stream()
                + " in the shared (unordered) mode (partitions 0), but the stream is in the partitioned (ordered) "
                + "mode: " + why + ". Start it partitioned (partitions(n), WORKER_PARTITIONS=n or "
                + "workflow.worker.redis.partitions=n, with the recorded count); a partitioned stream is not "
                + "switched back to the shared mode by a command, see docs/operations.md, \"Switching a stream "
                + "to the partitioned mode\"");
    }
}
