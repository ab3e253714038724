package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerConfig;
import org.springframework.core.env.Environment;

import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Builds the library's settings objects: properties over seed variables over defaults. A property
 * is a component of one of the {@link WorkflowWorkerProperties} records and reaches the builder
 * method of the same name, so that adding a setting to a builder takes one component here and
 * nothing else.
 */
final class Settings {

    private static final String PREFIX = "workflow.worker.";

    /** The starter's own properties, which no engine builder method takes. */
    private static final Set<String> NOT_ENGINE_SETTINGS =
            Set.of("autoStartup", "seedVariables", "requiredEventTypes", "redis", "tracing", "dashboard",
                    "schedules", "schedulesPrune", "schedulesOwner");

    private Settings() {
    }

    static WorkerConfig workerConfig(WorkflowWorkerProperties p, Environment environment) {
        WorkerConfig.Builder b = WorkerConfig.builder()
                .config(WorkerConfig.fromEnvironment(SeedVariables.of(environment, p.seedVariables())));
        apply("", p, b, NOT_ENGINE_SETTINGS, Map.of());
        try {
            return b.build();
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new IllegalArgumentException(PREFIX + "*: " + e.getMessage(), e);
        }
    }

    /**
     * Hands each component of {@code properties} that is set to the builder method of its name
     * ({@code renamed} maps the exceptions), in the order the record declares them.
     *
     * @param prefix     the properties' prefix below {@code workflow.worker.}, for messages
     * @param properties the bound properties
     * @param builder    the builder of the library's settings object
     * @param skipped    components that are not settings of the builder, or that the caller applies
     * @param renamed    component name to builder method name, where the two differ
     * @throws IllegalArgumentException naming the property and its (masked) value if the builder refuses it
     * @throws IllegalStateException    if the builder has no method for a component: a mistake of this starter
     */
    static void apply(String prefix, Record properties, Object builder, Set<String> skipped,
                      Map<String, String> renamed) {
        for (RecordComponent c : properties.getClass().getRecordComponents()) {
            if (!skipped.contains(c.getName())) {
                Method setter = setter(builder.getClass(), renamed.getOrDefault(c.getName(), c.getName()), c.getType());
                set(prefix + kebab(c.getName()), invoke(c.getAccessor(), properties), v -> invoke(setter, builder, v));
            }
        }
    }

    private static Method setter(Class<?> builder, String name, Class<?> type) {
        return Arrays.stream(builder.getMethods())
                .filter(m -> m.getName().equals(name) && m.getParameterCount() == 1
                        && wrap(m.getParameterTypes()[0]).isAssignableFrom(wrap(type)))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(builder.getName() + " has no method " + name + "("
                        + type.getSimpleName() + ")"));
    }

    private static Class<?> wrap(Class<?> type) {
        return MethodType.methodType(type).wrap().returnType();
    }

    private static Object invoke(Method method, Object target, Object... args) {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(method + " failed", e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@return a property's name as it is written: {@code deadLetterStream} is {@code dead-letter-stream}} */
    static String kebab(String name) {
        return name.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }

    /**
     * Sets a property that is set, naming it and its value if the setter refuses it.
     *
     * @param name the property below {@code workflow.worker.}
     */
    static <T> void set(String name, T value, Consumer<T> setter) {
        if (value == null) {
            return;
        }
        try {
            setter.accept(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PREFIX + name + "=" + shown(name, value) + " is invalid: "
                    + e.getMessage(), e);
        }
    }

    /** {@return the components of a properties record and their values, secrets masked} */
    static String describe(Record properties) {
        return Arrays.stream(properties.getClass().getRecordComponents())
                .map(c -> c.getName() + "=" + shown(c.getName(), invoke(c.getAccessor(), properties)))
                .collect(Collectors.joining(", "));
    }

    private static String shown(String name, Object value) {
        String lower = name.toLowerCase(Locale.ROOT);
        boolean secret = lower.endsWith("password") || lower.endsWith("url") || lower.endsWith("token");
        return secret && value != null ? "(masked)" : String.valueOf(value);
    }
}
