package dev.workflowworker.spring.boot;

import dev.workflowworker.redis.RedisOptions;
import org.springframework.core.env.Environment;

import java.security.KeyStore;
import java.util.Map;
import java.util.Set;

/** Builds {@link RedisOptions} from {@code workflow.worker.redis.*} over the seed variables; loaded only with worker-redis present. */
final class RedisSettings {

    /** Taken by builder methods of two arguments or more, applied below. */
    private static final Set<String> APPLIED_HERE =
            Set.of("trustStore", "trustStorePassword", "trustStoreType", "waitReplicas", "waitTimeout");

    private RedisSettings() {
    }

    static RedisOptions redisOptions(WorkflowWorkerProperties props, Environment environment) {
        WorkflowWorkerProperties.Redis r = props.redis();
        RedisOptions seeded = RedisOptions.fromEnvironment(SeedVariables.of(environment, props.seedVariables()));
        RedisOptions.Builder b = seeded.toBuilder();
        String p = "redis.";
        // url first, as the record declares it: host, port and the rest override what it says
        Settings.apply(p, r, b, APPLIED_HERE, Map.of("url", "uri"));
        if (r.trustStore() != null) {
            String password = r.trustStorePassword();
            Settings.set(p + "trust-store", r.trustStore(), path -> b.trustStore(path,
                    password == null ? null : password.toCharArray(),
                    r.trustStoreType() != null ? r.trustStoreType() : KeyStore.getDefaultType()));
        }
        Settings.set(p + "wait-replicas", r.waitReplicas(), n -> b.waitForReplicas(n,
                r.waitTimeout() != null ? r.waitTimeout() : seeded.waitTimeout()));
        Settings.set(p + "wait-timeout", r.waitTimeout(), t -> b.waitForReplicas(
                r.waitReplicas() != null ? r.waitReplicas() : seeded.waitReplicas(), t));
        try {
            return b.build();
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new IllegalArgumentException("workflow.worker.redis.*: " + e.getMessage(), e);
        }
    }
}
