namespace Crisp.Server.Limits;

/// <summary>A client broke a <see cref="ClientLimits"/> bound; its connection is dropped. An
/// IOException so every transport's "connection lost" handling ends the session.</summary>
public sealed class ClientLimitExceededException(string limit, long value, string detail)
    : IOException($"client limit {limit} ({value}) exceeded: {detail}")
{
    /// <summary>The <see cref="ClientLimits"/> member's name.</summary>
    public string Limit { get; } = limit;
    public long Value { get; } = value;
    public string Detail { get; } = detail;
}
