using Microsoft.Extensions.Logging;

namespace Crisp.Server.Limits;

/// <summary>The one log line for a client that broke a <see cref="ClientLimits"/> bound.</summary>
public static partial class LimitLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Client limit {Limit} ({Value}) exceeded, dropping the connection: {Detail}")]
    public static partial void Exceeded(ILogger logger, string limit, long value, string detail);
}
