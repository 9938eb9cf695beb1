// Third-party ESME (jSMPP 3.0.2, from Maven Central; built by hack/jsmpp.sh) against our listener.
// Usage: JsmppEsme HOST PORT SYSTEM_ID PASSWORD TRIES ; each try connects and binds, and on
// success submits one message and unbinds. Prints one line per step.
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.jsmpp.bean.Alphabet;
import org.jsmpp.bean.BindType;
import org.jsmpp.bean.ESMClass;
import org.jsmpp.bean.GeneralDataCoding;
import org.jsmpp.bean.NumberingPlanIndicator;
import org.jsmpp.bean.RegisteredDelivery;
import org.jsmpp.bean.TypeOfNumber;
import org.jsmpp.extra.NegativeResponseException;
import org.jsmpp.extra.ResponseTimeoutException;
import org.jsmpp.extra.SessionState;
import org.jsmpp.session.BindParameter;
import org.jsmpp.session.SMPPSession;

public class JsmppEsme {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    int tries = Integer.parseInt(args[4]);
    for (int i = 0; i < tries; i++) {
      SMPPSession session = new SMPPSession();
      session.setTransactionTimer(5000);
      try {
        session.connectAndBind(host, port, new BindParameter(BindType.BIND_TRX, args[2], args[3], "",
            TypeOfNumber.UNKNOWN, NumberingPlanIndicator.UNKNOWN, null), 5000);
      } catch (IOException e) {
        Throwable c = e.getCause();
        if (c instanceof NegativeResponseException) {
          System.out.println("bind " + ((NegativeResponseException) c).getCommandStatus());
        } else if (c instanceof ResponseTimeoutException) {
          System.out.println("bind timeout");
        } else {
          System.out.println("bind error " + e.getMessage());
        }
        session.close();
        continue;
      }
      System.out.println("bind 0");
      String id = session.submitShortMessage("", TypeOfNumber.UNKNOWN, NumberingPlanIndicator.UNKNOWN, "1555",
          TypeOfNumber.UNKNOWN, NumberingPlanIndicator.UNKNOWN, "2666", new ESMClass(), (byte) 0, (byte) 1,
          null, null, new RegisteredDelivery(0), (byte) 0, new GeneralDataCoding(Alphabet.ALPHA_DEFAULT),
          (byte) 0, "jsmpp".getBytes(StandardCharsets.US_ASCII)).getMessageId();
      System.out.println("submit " + id);
      // unbindAndClose logs and carries on when unbind_resp does not come: ask for the state instead.
      session.unbindAndClose();
      System.out.println("unbind " + (session.getSessionState() == SessionState.CLOSED ? "closed" : "open"));
    }
  }
}
