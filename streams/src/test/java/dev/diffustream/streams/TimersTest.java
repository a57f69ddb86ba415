package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimersTest {

    private static int compareBytes(String a, String b) {
        return Arrays.compareUnsigned(
                a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldOrderKeysByDueTimeInByteOrder() {
        // given timers due at 9, 10, 255 and 2^40 ms, with group ids that would sort otherwise
        List<String> keys = new ArrayList<>();
        keys.add(Timers.key(Timers.DEADLINE, 1L << 40, "a"));
        keys.add(Timers.key(Timers.DEADLINE, 255, "b"));
        keys.add(Timers.key(Timers.DEADLINE, 10, "z"));
        keys.add(Timers.key(Timers.DEADLINE, 9, "zz"));

        // when sorted as a store sorts them (unsigned bytes)
        keys.sort(TimersTest::compareBytes);

        // then the order is the due-time order and group ids round-trip
        assertThat(keys).extracting(Timers::groupId).containsExactly("zz", "z", "b", "a");
    }

    @Test
    void shouldBoundExactlyTheTimersDueByNow() {
        // given the bound for now = 1000
        String bound = Timers.dueBy(Timers.DEADLINE, 1000);

        // then a key due at 1000 is inside, one due at 1001 is outside, whatever the group id
        assertThat(compareBytes(Timers.key(Timers.DEADLINE, 1000, "\uffff\uffff"), bound))
                .isNegative();
        assertThat(compareBytes(Timers.key(Timers.DEADLINE, 1001, ""), bound)).isPositive();
        assertThat(compareBytes(Timers.key(Timers.DEADLINE, 0, "g"), Timers.from(Timers.DEADLINE)))
                .isPositive();
        // and other kinds sort outside the range
        assertThat(compareBytes(Timers.key(Timers.FORGET, 0, "g"), bound)).isPositive();
    }
}
