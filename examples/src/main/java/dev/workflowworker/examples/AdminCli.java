package dev.workflowworker.examples;

import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code java -jar workflow-worker-examples.jar admin ...}: the dead-letter and queue tool over
 * {@link WorkflowAdmin}, and the schedules and delayed events of a partitioned stream ({@link TimeCli}).
 * Redis, stream and group come from the same environment variables as the
 * service ({@code REDIS_URL}, {@code WORKER_STREAM}, {@code WORKER_GROUP}, read by
 * {@link RedisOptions#fromEnvironment(Map)}). A partitioned stream is recognised by the count it
 * recorded in Redis, so {@code WORKER_PARTITIONS} may be left unset; when set, it must match.
 *
 * <p>Exit codes: 0 done, 1 the operation failed (not found, Redis unreachable), 2 usage error
 * (including a malformed dead letter id).
 */
final class AdminCli {

    static final String USAGE = String.join("\n",
            "usage: java -jar workflow-worker-examples.jar admin <command>",
            "  dlq list [--limit N] [--after ID]     dead letters, oldest first (N defaults to 20)",
            "  dlq show ID                           one dead letter with its original message and stack",
            "  dlq replay ID                         send one back to the stream (attempts reset, same event_id)",
            "  dlq replay --all [--rate N]           send all back, at most N per second (default 100)",
            "  dlq replay --from ID --to ID [--rate N]",
            "  dlq purge --yes                       delete every dead letter",
            "  stats                                 stream length, lag, pending per consumer, retries, dead letters;",
            "                                        per partition with its owner on a partitioned stream",
            "  switch-to-partitioned [--partitions N]",
            "                                        move a drained shared stream to the partitioned mode: refused",
            "                                        while entries are pending, retries wait or dead letters remain;",
            "                                        N defaults to WORKER_PARTITIONS, else 16",
            TimeCli.USAGE,
            "a partitioned stream's dead letters are named PARTITION/ID (e.g. 2/1764280000000-0); a plain ID",
            "in --after, --from or --to stands for that time in every partition",
            "environment: REDIS_URL (required), WORKER_STREAM, WORKER_GROUP, WORKER_PARTITIONS (read from Redis",
            "when unset)");

    /** A usage error: wrong arguments, exit 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private AdminCli() {
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        RedisOptions options;
        try {
            if (args.isEmpty()) {
                throw new UsageException("missing command");
            }
            if (env.get("REDIS_URL") == null || env.get("REDIS_URL").isBlank()) {
                throw new UsageException("REDIS_URL is not set");
            }
            options = RedisOptions.fromEnvironment(env);
        } catch (UsageException e) {
            err.println("admin: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("admin: " + e.getMessage());
            return 2;
        }
        try (WorkflowAdmin admin = WorkflowAdmin.create(options)) {
            return dispatch(admin, options, new ArrayList<>(args), out, err);
        } catch (UsageException e) {
            err.println("admin: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("admin: interrupted");
            return 1;
        } catch (IllegalArgumentException e) {
            // A malformed id, e.g. a plain one on a partitioned stream: the message names the form to use.
            err.println("admin: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            err.println("admin: " + e.getMessage());
            return 1;
        }
    }

    private static int dispatch(WorkflowAdmin admin, RedisOptions options, List<String> a, PrintStream out,
                                PrintStream err) throws UsageException, InterruptedException {
        String command = a.remove(0);
        if ("stats".equals(command)) {
            noMore(a);
            stats(admin.stats(), out);
            return 0;
        }
        if ("switch-to-partitioned".equals(command)) {
            int partitions = intOption(a, "--partitions",
                    options.partitioned() ? options.partitions() : RedisOptions.DEFAULT_PARTITIONS);
            noMore(a);
            if (partitions > RedisOptions.MAX_PARTITIONS) {
                throw new UsageException("--partitions must be at most " + RedisOptions.MAX_PARTITIONS);
            }
            String at = admin.switchToPartitioned(partitions);
            out.printf("stream %s is partitioned (%d partitions): the router starts after %s, so nothing the shared "
                    + "group delivered runs again; start the instances with WORKER_PARTITIONS=%d%n",
                    options.stream(), partitions, at, partitions);
            return 0;
        }
        if ("schedules".equals(command) || "delayed".equals(command)) {
            return TimeCli.run(command, admin, options, a, out, err);
        }
        if (!"dlq".equals(command)) {
            throw new UsageException("unknown command '" + command + "'");
        }
        if (a.isEmpty()) {
            throw new UsageException("dlq needs a subcommand: list, show, replay or purge");
        }
        String sub = a.remove(0);
        switch (sub) {
            case "list" -> {
                int limit = intOption(a, "--limit", 20);
                String after = option(a, "--after");
                noMore(a);
                List<RedisDeadLetters.Entry> page = admin.deadLetters(after, limit);
                out.printf("%d of %d dead letters%s%n", page.size(), admin.deadLetterCount(),
                        after == null ? "" : " after " + after);
                for (RedisDeadLetters.Entry e : page) {
                    out.printf("%s  %-11s attempts=%s  %s%n", e.id(), e.errorCategory(),
                            e.fields().getOrDefault("attempts", "?"), oneLine(e.errorMessage()));
                }
                if (page.size() == limit) {
                    out.printf("next page: admin dlq list --limit %d --after %s%n", limit, page.get(page.size() - 1).id());
                }
                return 0;
            }
            case "show" -> {
                String id = positional(a, "dlq show needs a dead letter id");
                noMore(a);
                Optional<RedisDeadLetters.Entry> e = admin.deadLetter(id);
                if (e.isEmpty()) {
                    err.println("admin: no dead letter " + id);
                    return 1;
                }
                e.get().fields().forEach((k, v) -> out.printf("%s: %s%n", k, v));
                return 0;
            }
            case "replay" -> {
                int rate = intOption(a, "--rate", 100);
                if (a.remove("--all")) {
                    noMore(a);
                    out.printf("replayed %d dead letters%n", admin.replayAll(rate));
                    return 0;
                }
                String from = option(a, "--from");
                String to = option(a, "--to");
                if (from != null || to != null) {
                    if (from == null || to == null) {
                        throw new UsageException("dlq replay needs both --from and --to");
                    }
                    noMore(a);
                    out.printf("replayed %d dead letters%n", admin.replayRange(from, to, rate));
                    return 0;
                }
                String id = positional(a, "dlq replay needs an id, --all, or --from/--to");
                noMore(a);
                Optional<String> newId = admin.replay(id);
                if (newId.isEmpty()) {
                    err.println("admin: no dead letter " + id);
                    return 1;
                }
                out.printf("replayed %s as stream entry %s%n", id, newId.get());
                return 0;
            }
            case "purge" -> {
                if (!a.remove("--yes")) {
                    throw new UsageException("dlq purge deletes every dead letter; confirm with --yes");
                }
                noMore(a);
                out.printf("purged %d dead letters%n", admin.purge());
                return 0;
            }
            default -> throw new UsageException("unknown dlq subcommand '" + sub + "'");
        }
    }

    private static void stats(WorkflowAdmin.QueueStats s, PrintStream out) {
        if (s.partitioned()) {
            partitionedStats(s, out);
            return;
        }
        out.printf("stream %s, group %s%n", s.stream(), s.group());
        out.printf("  length          %d%n", s.length());
        out.printf("  lag             %s%n", s.lag() < 0 ? "unknown" : Long.toString(s.lag()));
        out.printf("  pending         %d%n", s.pending());
        out.printf("  retry scheduled %d%n", s.retryScheduled());
        out.printf("  dead letters    %d%n", s.deadLetters());
        out.printf("  consumers       %d%n", s.consumers().size());
        for (WorkflowAdmin.ConsumerStats c : s.consumers()) {
            out.printf("    %-48s pending=%d idle=%dms%n", c.name(), c.pending(), c.idle().toMillis());
        }
    }

    private static void partitionedStats(WorkflowAdmin.QueueStats s, PrintStream out) {
        out.printf("stream %s, group %s, %d partitions%n", s.stream(), s.group(), s.partitions().size());
        out.printf("  length          %d%n", s.length());
        out.printf("  lag             %s%n", s.lag() < 0 ? "unknown" : Long.toString(s.lag()));
        out.printf("  pending         %d%n", s.pending());
        out.printf("  retry scheduled %d%n", s.retryScheduled());
        out.printf("  dead letters    %d%n", s.deadLetters());
        out.printf("  instances       %d%n", s.consumers().size());
        for (WorkflowAdmin.ConsumerStats c : s.consumers()) {
            out.printf("    %-48s pending=%d%n", c.name(), c.pending());
        }
        out.printf("  %9s %9s %9s %9s %9s %9s  %s%n", "partition", "length", "lag", "pending", "held", "dead",
                "owner");
        for (WorkflowAdmin.PartitionStats p : s.partitions()) {
            out.printf("  %9d %9d %9s %9d %9d %9d  %s%n", p.partition(), p.length(),
                    p.lag() < 0 ? "?" : Long.toString(p.lag()), p.pending(), p.heldRetries(), p.deadLetters(),
                    p.owner().isEmpty() ? "-" : p.owner());
        }
    }

    static String option(List<String> a, String name) throws UsageException {
        int i = a.indexOf(name);
        if (i < 0) {
            return null;
        }
        if (i + 1 >= a.size()) {
            throw new UsageException(name + " needs a value");
        }
        String v = a.remove(i + 1);
        a.remove(i);
        return v;
    }

    /** Takes {@code name <positive int>} out of {@code a}; shared by the commands of the examples jar. */
    static int intOption(List<String> a, String name, int dflt) throws UsageException {
        String v = option(a, name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a positive integer, got '" + v + "'");
        }
    }

    static String positional(List<String> a, String missing) throws UsageException {
        if (a.isEmpty() || a.get(0).startsWith("--")) {
            throw new UsageException(missing);
        }
        return a.remove(0);
    }

    static void noMore(List<String> a) throws UsageException {
        if (!a.isEmpty()) {
            throw new UsageException("unexpected argument '" + a.get(0) + "'");
        }
    }

    private static String oneLine(String s) {
        String line = s.replace('\n', ' ');
        return line.length() <= 160 ? line : line.substring(0, 160) + "...";
    }
}
