package dev.workflowworker.core;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowAction;
import dev.workflowworker.api.WorkflowRuntime;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link WorkflowRuntime} that routes each event by its {@code eventType} to a registered
 * {@link WorkflowAction}. An event whose type has no action, or whose payload lacks a field the
 * action requires, fails with a {@link PermanentWorkflowException} and is dead-lettered without
 * running anything.
 *
 * <pre>{@code
 * ActionRuntime runtime = ActionRuntime.builder()
 *     .on("TICKET_CREATED", ctx -> notifier.send(ctx.payload().get("ticket_id")), "ticket_id")
 *     .on("INVOICE_DUE", new ChargeCustomerAction(billing))
 *     .build();
 * }</pre>
 */
public final class ActionRuntime implements WorkflowRuntime {

    private record Route(WorkflowAction action, List<String> required) {
    }

    private final Map<String, Route> routes;

    private ActionRuntime(Map<String, Route> routes) {
        this.routes = Map.copyOf(routes);
    }

    /** {@return a new builder, empty until actions are registered} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the event types that have an action, e.g. to check routing at startup} */
    public Set<String> eventTypes() {
        return routes.keySet();
    }

    @Override
    public void process(EventContext context) throws Exception {
        String type = context.event().eventType();
        Route route = routes.get(type);
        if (route == null) {
            throw new PermanentWorkflowException("no action registered for event type '" + type + "'");
        }
        Map<String, Object> payload = context.payload();
        for (String field : route.required) {
            if (payload.get(field) == null) {
                throw new PermanentWorkflowException("missing required payload field '" + field
                        + "' for event type '" + type + "'");
            }
        }
        route.action.execute(context);
    }

    /** Builds {@link ActionRuntime}s. */
    public static final class Builder {
        private final Map<String, Route> routes = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Registers the action for an event type.
         *
         * @param eventType      the event type; must not be blank or already registered
         * @param action         the action
         * @param requiredFields payload fields that must be present, in addition to the action's own
         * @return this builder
         * @throws IllegalArgumentException if the type is blank or already has an action
         */
        public Builder on(String eventType, WorkflowAction action, String... requiredFields) {
            if (eventType == null || eventType.isBlank()) {
                throw new IllegalArgumentException("eventType must not be blank");
            }
            Objects.requireNonNull(action, "action");
            if (routes.containsKey(eventType)) {
                throw new IllegalArgumentException("an action is already registered for event type '" + eventType + "'");
            }
            Set<String> required = new LinkedHashSet<>(action.requiredFields());
            for (String f : requiredFields) {
                if (f == null || f.isBlank()) {
                    throw new IllegalArgumentException("required field names must not be blank");
                }
                required.add(f);
            }
            routes.put(eventType, new Route(action, List.copyOf(required)));
            return this;
        }

        /**
         * Builds the runtime; an empty one is refused, since it could only fail every event it is
         * given.
         *
         * @return the runtime
         * @throws IllegalStateException if no action was registered
         */
        public ActionRuntime build() {
            if (routes.isEmpty()) {
                throw new IllegalStateException("register at least one action with on(eventType, action)");
            }
            return new ActionRuntime(routes);
        }
    }
}
