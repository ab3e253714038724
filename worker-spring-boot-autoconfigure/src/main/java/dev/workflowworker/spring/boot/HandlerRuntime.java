package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowAction;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.core.ActionRuntime;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ReflectionUtils;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The runtime built from {@link WorkflowHandler} methods and {@link WorkflowAction} beans once
 * every singleton exists (so that handler beans may themselves depend on the service or the
 * publisher). Failing here fails the context's refresh, naming beans and event types.
 */
final class HandlerRuntime implements WorkflowRuntime, SmartInitializingSingleton {

    private record Handler(String eventType, String source, WorkflowAction action, String[] requiredFields) {
    }

    private final ConfigurableListableBeanFactory beanFactory;
    /** Event type to the property that requires a handler for it. */
    private final Map<String, String> requiredEventTypes;
    private volatile ActionRuntime delegate;

    HandlerRuntime(ConfigurableListableBeanFactory beanFactory, Map<String, String> requiredEventTypes) {
        this.beanFactory = beanFactory;
        this.requiredEventTypes = new LinkedHashMap<>(requiredEventTypes);
    }

    @Override
    public void process(EventContext context) throws Exception {
        ActionRuntime runtime = delegate;
        if (runtime == null) {
            throw new IllegalStateException("handlers are not registered yet: the application context is still starting");
        }
        runtime.process(context);
    }

    /** {@return the event types that have a handler; empty until the context has started} */
    java.util.Set<String> eventTypes() {
        ActionRuntime runtime = delegate;
        return runtime == null ? java.util.Set.of() : runtime.eventTypes();
    }

    @Override
    public void afterSingletonsInstantiated() {
        Map<String, Handler> byType = new LinkedHashMap<>();
        for (String name : beanFactory.getBeanNamesForType(Object.class, false, false)) {
            Class<?> type = beanFactory.getType(name, false);
            if (type == null) {
                continue;
            }
            Class<?> target = AopUtils.isAopProxy(type) ? AopUtils.getTargetClass(beanFactory.getBean(name)) : type;
            Map<Method, WorkflowHandler> methods = MethodIntrospector.selectMethods(target,
                    (MethodIntrospector.MetadataLookup<WorkflowHandler>) m ->
                            AnnotatedElementUtils.findMergedAnnotation(m, WorkflowHandler.class));
            WorkflowHandler onType = AnnotatedElementUtils.findMergedAnnotation(target, WorkflowHandler.class);
            boolean isAction = WorkflowAction.class.isAssignableFrom(target);
            if (methods.isEmpty() && onType == null && !isAction) {
                continue;
            }
            Object bean = beanFactory.getBean(name);
            for (Map.Entry<Method, WorkflowHandler> e : methods.entrySet()) {
                Method invocable = AopUtils.selectInvocableMethod(e.getKey(), bean.getClass());
                String source = "bean '" + name + "' method " + e.getKey().getName();
                register(byType, new Handler(e.getValue().value(), source, methodAction(bean, invocable, source),
                        e.getValue().requiredFields()));
            }
            if (isAction) {
                if (onType == null) {
                    throw new IllegalStateException("WorkflowAction bean '" + name + "' (" + target.getName()
                            + ") has no event type: annotate its class with @WorkflowHandler(\"EVENT_TYPE\")");
                }
                register(byType, new Handler(onType.value(), "WorkflowAction bean '" + name + "'",
                        (WorkflowAction) bean, onType.requiredFields()));
            } else if (onType != null) {
                throw new IllegalStateException("bean '" + name + "' is annotated @WorkflowHandler(\"" + onType.value()
                        + "\") on its class but is not a WorkflowAction; annotate a method instead");
            }
        }
        List<String> missing = new ArrayList<>();
        requiredEventTypes.forEach((type, property) -> {
            if (!byType.containsKey(type)) {
                missing.add(type + " (" + property + ")");
            }
        });
        if (!missing.isEmpty()) {
            throw new IllegalStateException("no @WorkflowHandler for event type(s) " + missing
                    + "; handlers exist for " + byType.keySet());
        }
        if (byType.isEmpty()) {
            throw new IllegalStateException("no workflow handlers: add a @WorkflowHandler(\"EVENT_TYPE\") method to a bean, "
                    + "a WorkflowAction bean annotated @WorkflowHandler, or a WorkflowRuntime bean of your own");
        }
        ActionRuntime.Builder builder = ActionRuntime.builder();
        byType.values().forEach(h -> builder.on(h.eventType, h.action, h.requiredFields));
        delegate = builder.build();
    }

    private static void register(Map<String, Handler> byType, Handler h) {
        if (h.eventType == null || h.eventType.isBlank()) {
            throw new IllegalStateException("@WorkflowHandler on " + h.source + " has a blank event type");
        }
        Handler existing = byType.putIfAbsent(h.eventType, h);
        if (existing != null) {
            throw new IllegalStateException("two handlers for event type '" + h.eventType + "': " + existing.source
                    + " and " + h.source);
        }
    }

    /** Adapts a handler method, resolving each parameter once at startup rather than per event. */
    private static WorkflowAction methodAction(Object bean, Method method, String source) {
        Parameter[] params = method.getParameters();
        List<Function<EventContext, Object>> args = new ArrayList<>(params.length);
        boolean payloadSeen = false;
        for (Parameter p : params) {
            Class<?> t = p.getType();
            if (t == EventContext.class) {
                args.add(ctx -> ctx);
            } else if (t == WorkflowEvent.class) {
                args.add(EventContext::event);
            } else if (payloadSeen) {
                throw new IllegalStateException("@WorkflowHandler " + source + " has more than one payload parameter ("
                        + p.getName() + " of " + t.getName() + "); take EventContext, WorkflowEvent and one payload type");
            } else {
                payloadSeen = true;
                if (t == Map.class || t == Object.class) {
                    args.add(EventContext::payload);
                } else if (t.isPrimitive() || t == String.class) {
                    throw new IllegalStateException("@WorkflowHandler " + source + " takes " + t.getName()
                            + ", which a JSON object payload cannot be bound to; take a record, a bean or a Map");
                } else {
                    args.add(ctx -> ctx.payloadAs(t));
                }
            }
        }
        ReflectionUtils.makeAccessible(method);
        return ctx -> {
            Object[] values = new Object[args.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = args.get(i).apply(ctx);
            }
            try {
                method.invoke(bean, values);
            } catch (InvocationTargetException e) {
                // the handler's own exception, so that it is classified as thrown
                Throwable cause = e.getCause();
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                throw (Error) cause;
            }
        };
    }
}
