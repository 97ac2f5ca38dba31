namespace Crisp.Runtime.State;

/// <summary>CRI timestamps are int64 nanoseconds since the Unix epoch.</summary>
public static class UnixNanos
{
    public static long Now() => FromDateTimeOffset(DateTimeOffset.UtcNow);

    public static long FromDateTimeOffset(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
}
