package dev.workflowworker.spring.boot;

import org.springframework.core.env.Environment;

import java.util.AbstractMap;
import java.util.Map;
import java.util.Set;

/**
 * The seed system's variables (WORKER_COUNT, REDIS_URL, ...) as the map that
 * {@code WorkerConfig.fromEnvironment} and {@code RedisOptions.fromEnvironment} read, looked up in
 * Spring's {@link Environment}, so that the library's own parsing and messages apply and a variable
 * may come from any property source.
 */
final class SeedVariables extends AbstractMap<String, String> {

    private final Environment environment;

    SeedVariables(Environment environment) {
        this.environment = environment;
    }

    static Map<String, String> of(Environment environment, boolean enabled) {
        return enabled ? new SeedVariables(environment) : Map.of();
    }

    @Override
    public String get(Object key) {
        return key instanceof String name ? environment.getProperty(name) : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        // only looked up by name: an Environment cannot list every variable of every source
        return Set.of();
    }
}
