using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    public override async Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        string handler = RuntimeHandler(request.Filter?.Image, "ListImagesRequest.filter.image.runtime_handler");
        var response = new ListImagesResponse();
        foreach (var image in await ImageMessages.SelectAsync(images, request.Filter, context.CancellationToken))
        {
            response.Images.Add(ImageMessages.ToCri(image, handler));
        }
        return response;
    }
}
