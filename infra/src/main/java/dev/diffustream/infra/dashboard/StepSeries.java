package dev.diffustream.infra.dashboard;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A step-keyed series with a bounded number of points. When it grows past its capacity, every
 * second point is dropped (the newest is always kept), so a long run stays visible end to end in
 * bounded memory: older steps are thinned, the newest arrive at full resolution. Every point kept
 * is a real step's value, never an average. A point for a step already present replaces it.
 *
 * @param <P> point type
 */
final class StepSeries<P> {
    private final int capacity;
    private final TreeMap<Long, P> points = new TreeMap<>();

    StepSeries(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("series capacity must be >= 2, got " + capacity);
        }
        this.capacity = capacity;
    }

    void put(long step, P point) {
        points.put(step, point);
        if (points.size() > capacity) {
            thin();
        }
    }

    private void thin() {
        Long last = points.lastKey();
        int i = 0;
        for (Iterator<Map.Entry<Long, P>> it = points.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, P> e = it.next();
            if (i++ % 2 == 1 && !e.getKey().equals(last)) {
                it.remove();
            }
        }
    }

    int size() {
        return points.size();
    }

    /** The point of the highest step, or null. */
    P last() {
        return points.isEmpty() ? null : points.lastEntry().getValue();
    }

    /** The points in step order. */
    List<P> values() {
        return new ArrayList<>(points.values());
    }
}
