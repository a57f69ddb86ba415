package dev.diffustream.infra.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SeriesAndWindowTest {

    @Test
    void shouldStayBoundedAndKeepTheNewestStepWhenASeriesOutgrowsItsCapacity() {
        // given a series of capacity 10
        StepSeries<Long> series = new StepSeries<>(10);

        // when 1000 steps arrive
        for (long s = 1; s <= 1000; s++) {
            series.put(s, s * 10);
        }

        // then it holds at most 10 real points, in order, spanning the run, newest included
        assertThat(series.size()).isBetween(2, 10);
        assertThat(series.values()).isSorted();
        assertThat(series.values().get(0)).isEqualTo(10L);
        assertThat(series.last()).isEqualTo(10_000L);
        assertThat(series.values()).allMatch(v -> v % 10 == 0);
    }

    @Test
    void shouldReplaceThePointWhenAStepArrivesAgain() {
        StepSeries<String> series = new StepSeries<>(4);
        series.put(1, "a");
        series.put(1, "b");
        assertThat(series.values()).containsExactly("b");
    }

    @Test
    void shouldCountFutureRecordsWhenTheirSecondComesAndForgetThemAMinuteLater() {
        // given a record stamped 3 s in the future (clock skew) and one 10 s in the future
        RateWindow w = new RateWindow();
        long now = 1_000_000_000_000L;
        w.add(now + 3_000, now);
        w.add(now + 10_000, now);

        // then the first is counted once its second has come, the second never
        assertThat(w.lastMinute(now)).isZero();
        assertThat(w.lastMinute(now + 3_000)).isEqualTo(1);
        assertThat(w.lastMinute(now + 62_999)).isEqualTo(1);
        assertThat(w.lastMinute(now + 63_000)).isZero();
        assertThat(w.total()).isEqualTo(2);
    }

    @Test
    void shouldNotMixSecondsWhenARingSlotIsReused() {
        // given 5 records in one second, then, 66 s later (same ring slot), 2 more
        RateWindow w = new RateWindow();
        long t0 = 2_000_000_000_000L;
        for (int i = 0; i < 5; i++) {
            w.add(t0, t0);
        }
        long t1 = t0 + 66_000;
        w.add(t1, t1);
        w.add(t1, t1);

        // then only the newer second is in the window
        assertThat(w.lastMinute(t1)).isEqualTo(2);
    }
}
