using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Crisp.Runtime.Streaming;

namespace Crisp.Server.Streaming;

/// <summary>
/// Reads the resize channel: a sequence of JSON objects {"Width":w,"Height":h} (client-go writes them back to back
/// with json.Encoder), delivered as terminal sizes until the channel ends.
/// </summary>
public static class ResizeDecoder
{
    public static async Task PumpAsync(Stream source, ChannelWriter<TerminalSize> sizes, CancellationToken ct)
    {
        var pending = new ArrayBufferWriter<byte>();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                pending.Write(buffer.AsSpan(0, read));
                var consumed = DecodeAll(pending.WrittenSpan, sizes);
                if (consumed > 0)
                {
                    var rest = pending.WrittenSpan[consumed..].ToArray();
                    pending.Clear();
                    pending.Write(rest);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        finally
        {
            sizes.TryComplete();
        }
    }

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
            try { size = JsonSerializer.Deserialize<WireSize>(data.Slice(consumed, length)); }
            catch (JsonException) { size = null; } // e.g. a negative or textual width: skip this one, keep the channel
            if (size is not null && size.Width <= ushort.MaxValue && size.Height <= ushort.MaxValue)
                sizes.TryWrite(new TerminalSize((ushort)size.Width, (ushort)size.Height));
            consumed += length;
        }
    }

    private sealed class WireSize
    {
        public uint Width { get; set; }
        public uint Height { get; set; }
    }
}
