using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Crisp.TestSupport.Logging;

/// <summary>Keeps every log event, so a test can prove an event (a limit hit, a fallback) did or did not happen.</summary>
public class RecordingLogger : ILogger
{
    public sealed record Event(LogLevel Level, string Name, string Message);

    public ConcurrentQueue<Event> Events { get; } = new();

    /// <summary>Every event as "Level: message", for assertion messages.</summary>
    public IEnumerable<string> Lines => Events.Select(e => $"{e.Level}: {e.Message}");

    public int Count(string eventName) => Events.Count(e => e.Name == eventName);

    public bool Logged(string fragment) => Events.Any(e => e.Message.Contains(fragment, StringComparison.Ordinal));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Events.Enqueue(new Event(logLevel, eventId.Name ?? "", formatter(state, exception)));
}

/// <summary>The same, where the code under test asks for a typed logger.</summary>
public sealed class RecordingLogger<T> : RecordingLogger, ILogger<T>;
