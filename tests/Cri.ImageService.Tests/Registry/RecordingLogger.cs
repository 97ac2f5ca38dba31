using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Tests.RegistryTests;

/// <summary>Keeps every log event, so a test can prove an event (a limit hit, a fallback) did or did not happen.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public sealed record Event(LogLevel Level, string Name, string Message);

    public ConcurrentQueue<Event> Events { get; } = new();

    public int Count(string eventName) => Events.Count(e => e.Name == eventName);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Events.Enqueue(new Event(logLevel, eventId.Name ?? "", formatter(state, exception)));
}
