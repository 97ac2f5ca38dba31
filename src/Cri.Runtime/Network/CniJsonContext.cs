using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Crisp.Runtime.Network;

/// <summary>
/// Source-generated JSON for what crisp writes of CNI documents (the attachment cache, conflists handed back to
/// the parser): CNI configs are open-ended, so they stay <see cref="JsonObject"/> trees rather than typed models.
/// </summary>
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class CniJsonContext : JsonSerializerContext;
