using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Crisp.Runtime.Streaming;
using Crisp.Server.Limits;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming;

/// <summary>
/// Reads the resize channel: a sequence of JSON objects {"Width":w,"Height":h} (client-go writes them back to back
/// with json.Encoder), delivered as terminal sizes until the channel ends. A message longer than
/// <see cref="ClientLimits.ResizeMaxMessageBytes"/> drops the connection before it is parsed, so the work done per
/// byte received stays bounded (no re-scanning of an ever-growing partial object).
/// </summary>
public static class ResizeDecoder
{
    /// <summary>The queue between the decoder and the session: bounded, the oldest size gives way (only the latest matters).</summary>
    public static Channel<TerminalSize> CreateSizeChannel() =>
        Channel.CreateBounded<TerminalSize>(new BoundedChannelOptions(ClientLimits.ResizeMaxQueuedSizes)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });

    /// <param name="dropConnection">Ends the client's connection when it breaks the message limit.</param>
    public static async Task PumpAsync(Stream source, ChannelWriter<TerminalSize> sizes, ILogger logger,
        Func<ValueTask> dropConnection, CancellationToken ct)
    {
        var pending = new ArrayBufferWriter<byte>(ClientLimits.ResizeMaxMessageBytes + ReadChunk);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadChunk);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, ReadChunk), ct).ConfigureAwait(false)) > 0)
            {
                pending.Write(buffer.AsSpan(0, read));
                var consumed = DecodeAll(pending.WrittenSpan, sizes);
                if (consumed > 0)
                {
                    var rest = pending.WrittenSpan[consumed..].ToArray();
                    pending.Clear();
                    pending.Write(rest);
                }
                if (pending.WrittenCount > ClientLimits.ResizeMaxMessageBytes)
                {
                    LimitLog.Exceeded(logger, nameof(ClientLimits.ResizeMaxMessageBytes), ClientLimits.ResizeMaxMessageBytes,
                        $"a terminal resize message still incomplete after {pending.WrittenCount} bytes");
                    await dropConnection().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            sizes.TryComplete();
        }
    }

    private const int ReadChunk = 1024;

    /// <summary>Decodes every complete object in <paramref name="data"/>; returns the bytes consumed.</summary>
    internal static int DecodeAll(ReadOnlySpan<byte> data, ChannelWriter<TerminalSize> sizes)
    {
        var consumed = 0;
        while (true)
        {
            var reader = new Utf8JsonReader(data[consumed..], isFinalBlock: false, state: default);
            try
            {
                if (!reader.Read()) return consumed;
                if (reader.TokenType != JsonTokenType.StartObject)
                    throw new JsonException("a resize message must be a JSON object");
                if (!reader.TrySkip()) return consumed;
            }
            catch (JsonException)
            {
                // Not a size: drop what we have rather than wedge the channel.
                return data.Length;
            }
            var length = (int)reader.BytesConsumed;
            WireSize? size;
            try { size = JsonSerializer.Deserialize(data.Slice(consumed, length), StreamingJsonContext.Default.WireSize); }
            catch (JsonException) { size = null; } // e.g. a negative or textual width: skip this one, keep the channel
            if (size is not null && size.Width <= ushort.MaxValue && size.Height <= ushort.MaxValue)
                sizes.TryWrite(new TerminalSize((ushort)size.Width, (ushort)size.Height));
            consumed += length;
        }
    }
}
