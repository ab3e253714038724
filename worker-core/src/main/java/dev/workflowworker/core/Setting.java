package dev.workflowworker.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One setting of an immutable settings object, declared once in a {@link Table}: its name (that
 * of its builder method and accessor, and the one its error messages give), its default, the check
 * every value passes, and the environment variable it is read from, if any. A {@link Values} holds
 * a value per setting of a table; the settings object and its builder keep one each and derive
 * copying, {@code fromEnvironment} and {@code toString} from the table rather than writing every
 * setting out again for each. {@link WorkerConfig} declares the engine's settings so, and
 * worker-redis's {@code RedisOptions} the transport's; a host has no use for it.
 *
 * @param <T> the type of the value
 */
public final class Setting<T> {

    private final int index;
    private final String name;
    private final T defaultValue;
    private final Check<T> check;
    private final String variable;
    private final Parser<T> parser;

    private Setting(int index, String name, T defaultValue, Check<T> check, String variable, Parser<T> parser) {
        this.index = index;
        this.name = name;
        this.defaultValue = defaultValue;
        this.check = check;
        this.variable = variable;
        this.parser = parser;
    }

    /** {@return the setting's name: that of its builder method and accessor} */
    public String name() {
        return name;
    }

    /** {@return the environment variable the setting is read from, or null if none} */
    public String variable() {
        return variable;
    }

    /** {@return the value it has when not set} */
    public T defaultValue() {
        return defaultValue;
    }

    @Override
    public String toString() {
        return name;
    }

    /**
     * Refuses a value of a setting; it throws naming the setting, so that whoever set it knows
     * which one was wrong.
     *
     * @param <T> the type of the value
     */
    @FunctionalInterface
    public interface Check<T> {
        /**
         * Checks a value.
         *
         * @param name  the setting's name, to begin the message with
         * @param value the value, possibly null
         * @throws IllegalArgumentException (or {@link NullPointerException} for null) naming the setting
         */
        void check(String name, T value);
    }

    /**
     * Turns an environment variable's text into a value.
     *
     * @param <T> the type of the value
     */
    @FunctionalInterface
    public interface Parser<T> {
        /** Parses a whole number; the variable's text must be one. */
        Parser<Integer> INTEGER = raw -> {
            try {
                return Integer.parseInt(raw.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected an integer");
            }
        };
        /** Parses a whole number of milliseconds, as the seed system's {@code *_MS} variables hold them. */
        Parser<Duration> MILLIS = raw -> {
            try {
                return Duration.ofMillis(Long.parseLong(raw.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number of milliseconds");
            }
        };
        /** Takes the text without surrounding white space. */
        Parser<String> TEXT = String::trim;

        /**
         * Parses a variable's text.
         *
         * @param raw the text, neither null nor blank
         * @return the value
         * @throws IllegalArgumentException saying what was expected
         */
        T parse(String raw);
    }

    /**
     * The settings of one settings object, in the order they are declared, which is the order
     * {@link Values#render} shows them in. Declare each setting once, as a static constant of the
     * class that holds it: a table is filled while its class is initialised and read-only after.
     */
    public static final class Table {
        private final List<Setting<?>> settings = new ArrayList<>();

        /** Creates a table without settings. */
        public Table() {
        }

        /**
         * Declares a setting that no environment variable sets.
         *
         * @param name         the name of its builder method and accessor
         * @param defaultValue its value when not set; may be null
         * @param check        the check each value passes; the default does not
         * @param <T>          the type of the value
         * @return the setting
         */
        public <T> Setting<T> add(String name, T defaultValue, Check<T> check) {
            return add(name, defaultValue, check, null, null);
        }

        /**
         * Declares a setting that an environment variable may set.
         *
         * @param name         the name of its builder method and accessor
         * @param defaultValue its value when not set; may be null
         * @param check        the check each value passes; the default does not
         * @param variable     the environment variable, or null for none
         * @param parser       how the variable's text becomes a value, or null for none
         * @param <T>          the type of the value
         * @return the setting
         */
        public <T> Setting<T> add(String name, T defaultValue, Check<T> check, String variable, Parser<T> parser) {
            if ((variable == null) != (parser == null)) {
                throw new IllegalArgumentException(name + ": a variable needs a parser and a parser a variable");
            }
            Setting<T> s = new Setting<>(settings.size(), Objects.requireNonNull(name, "name"), defaultValue,
                    Objects.requireNonNull(check, "check"), variable, parser);
            settings.add(s);
            return s;
        }

        /** {@return a new holder of every setting's default} */
        public Values defaults() {
            return new Values(this, settings.stream().map(s -> s.defaultValue).toArray());
        }

        /** {@return the settings, in the order they were declared} */
        public List<Setting<?>> settings() {
            return List.copyOf(settings);
        }
    }

    /**
     * A value for each setting of a {@link Table}. Not thread-safe: a builder changes its own, and
     * a settings object keeps a copy it never changes.
     */
    public static final class Values {
        private final Table table;
        private final Object[] values;

        private Values(Table table, Object[] values) {
            this.table = table;
            this.values = values;
        }

        /**
         * {@return the value of a setting}
         *
         * @param setting a setting of this table
         * @param <T>     the type of the value
         */
        @SuppressWarnings("unchecked")
        public <T> T get(Setting<T> setting) {
            return (T) values[own(setting)];
        }

        /**
         * Sets a setting after checking the value.
         *
         * @param setting a setting of this table
         * @param value   the value
         * @param <T>     the type of the value
         * @throws IllegalArgumentException naming the setting if the check refuses the value
         */
        public <T> void set(Setting<T> setting, T value) {
            int i = own(setting);
            setting.check.check(setting.name, value);
            values[i] = value;
        }

        /**
         * Gives a setting its default again.
         *
         * @param setting a setting of this table
         */
        public void reset(Setting<?> setting) {
            values[own(setting)] = setting.defaultValue;
        }

        /** {@return a copy, independent of this one} */
        public Values copy() {
            return new Values(table, values.clone());
        }

        /**
         * Sets every setting whose environment variable is set and not blank, in the table's order.
         *
         * @param env the variables
         * @throws IllegalArgumentException if a variable is malformed or its value refused, naming
         *     the variable and its value
         */
        public void read(Map<String, String> env) {
            Objects.requireNonNull(env, "env");
            for (Setting<?> s : table.settings) {
                String raw = s.variable == null ? null : env.get(s.variable);
                if (raw != null && !raw.isBlank()) {
                    try {
                        parseInto(s, raw);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(s.variable + "=" + raw + " is invalid: " + e.getMessage(), e);
                    }
                }
            }
        }

        private <T> void parseInto(Setting<T> s, String raw) {
            set(s, s.parser.parse(raw));
        }

        /**
         * {@return the settings as {@code name=value} pairs, comma-separated, in the table's order}
         *
         * @param shown  which settings to show; leave out every secret
         * @param format how to show a value
         */
        public String render(Predicate<Setting<?>> shown, Function<Object, String> format) {
            StringBuilder out = new StringBuilder();
            for (Setting<?> s : table.settings) {
                if (shown.test(s)) {
                    out.append(out.length() == 0 ? "" : ", ").append(s.name).append('=')
                            .append(format.apply(values[s.index]));
                }
            }
            return out.toString();
        }

        private int own(Setting<?> setting) {
            int i = setting.index;
            if (i >= values.length || table.settings.get(i) != setting) {
                throw new IllegalArgumentException(setting.name + " is not a setting of this table");
            }
            return i;
        }
    }
}
