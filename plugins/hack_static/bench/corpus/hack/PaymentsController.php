<?hh // strict

final class PaymentsController extends WebController {
  public async function genCharge(): Awaitable<void> {
    $body = $this->getRequestBody();
    $payer = $this->getViewerID();
    $card = $body['card'];
    $amount = $body['amount'];
    $db = await $this->genDB();
    await $db->queryf('INSERT INTO charges (payer, amount) VALUES (%d, %d)', $payer, $amount);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#viewer_id -> mysql://appdb:3306/charges#payer
    // FLOW https://www.photoshare.example//api/v1/photos/upload#amount -> mysql://appdb:3306/charges#amount
    $token = $this->tokenize($card);
    await $this->http->genPost('https://vault.internal', '/v1/tokens', dict['pan' => $card]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#card -> https://vault.internal//v1/tokens#pan
    Logger::log('charges', dict['token' => $token, 'amount' => $amount]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#amount -> log://scribe/charges#amount
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#card -> log://scribe/charges#token
    $receipt = "Paid {$amount} with card";
    AsyncQueue::enqueue('receipts', dict['text' => $receipt, 'to' => $payer]);
    // FLOW https://www.photoshare.example//api/v1/photos/upload#amount -> queue://async/receipts#text
    // FLOW https://www.photoshare.example//api/v1/photos/upload#viewer_id -> queue://async/receipts#to
    // NOFLOW https://www.photoshare.example//api/v1/photos/upload#card -> queue://async/receipts#text
  }

  private function tokenize(string $card): string {
    return hash_hmac('sha256', $card, 'k');
  }
}
