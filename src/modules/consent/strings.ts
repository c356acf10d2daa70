// Every string of the public consent pages, per language. {name} is replaced by an escaped value.
// A page speaks the person's locale, else the workspace's defaultLocale, else English.

const en = {
  unsubscribeTitle: 'Unsubscribe',
  unsubscribeQuestion: 'Unsubscribe from all email from {workspace}?',
  unsubscribeAddress: 'Address: {address}',
  unsubscribeButton: 'Unsubscribe',
  managePreferences: 'Manage your preferences instead',
  unsubscribedTitle: 'You are unsubscribed',
  unsubscribedBody: 'You will no longer receive marketing email from {workspace}.',
  preferencesTitle: 'Your preferences',
  preferencesIntro: 'Choose what {workspace} sends to {address}.',
  allEmail: 'Unsubscribe from all marketing email',
  allSms: 'Unsubscribe from all marketing text messages',
  noTopics: 'There are no topics to choose from.',
  pending: 'awaiting your confirmation',
  save: 'Save preferences',
  saved: 'Your preferences have been saved.',
  confirmTitle: 'Confirm your subscription',
  confirmQuestion: 'Confirm your subscription to “{topic}” from {workspace}.',
  confirmButton: 'Confirm',
  confirmedBody: 'Your subscription to “{topic}” is confirmed.',
  nothingToConfirm: 'There is nothing left to confirm for “{topic}”.',
  errorTitle: 'This link does not work',
  errorBody: 'The link is incomplete or no longer valid. Nothing was changed.',
  badRequestBody: 'This request could not be understood. Nothing was changed.',
  errorCode: 'Error code: {code}',
  confirmEmailSubject: 'Confirm your subscription to “{topic}”',
  confirmEmailBody: '{workspace} received a request to send “{topic}” to this address. Please confirm it:',
  confirmEmailIgnore: 'If you did not ask for this, ignore this message: you will not be subscribed.',
};

export type StringKey = keyof typeof en;
type Strings = Record<StringKey, string>;

const fr: Strings = {
  unsubscribeTitle: 'Se désabonner',
  unsubscribeQuestion: 'Se désabonner de tous les e-mails de {workspace} ?',
  unsubscribeAddress: 'Adresse : {address}',
  unsubscribeButton: 'Se désabonner',
  managePreferences: 'Gérer plutôt vos préférences',
  unsubscribedTitle: 'Vous êtes désabonné',
  unsubscribedBody: 'Vous ne recevrez plus d’e-mails marketing de {workspace}.',
  preferencesTitle: 'Vos préférences',
  preferencesIntro: 'Choisissez ce que {workspace} envoie à {address}.',
  allEmail: 'Se désabonner de tous les e-mails marketing',
  allSms: 'Se désabonner de tous les SMS marketing',
  noTopics: 'Aucun thème à choisir.',
  pending: 'en attente de votre confirmation',
  save: 'Enregistrer',
  saved: 'Vos préférences ont été enregistrées.',
  confirmTitle: 'Confirmez votre abonnement',
  confirmQuestion: 'Confirmez votre abonnement à « {topic} » de {workspace}.',
  confirmButton: 'Confirmer',
  confirmedBody: 'Votre abonnement à « {topic} » est confirmé.',
  nothingToConfirm: 'Il n’y a plus rien à confirmer pour « {topic} ».',
  errorTitle: 'Ce lien ne fonctionne pas',
  errorBody: 'Le lien est incomplet ou n’est plus valide. Rien n’a été modifié.',
  badRequestBody: 'Cette demande n’a pas pu être comprise. Rien n’a été modifié.',
  errorCode: 'Code d’erreur : {code}',
  confirmEmailSubject: 'Confirmez votre abonnement à « {topic} »',
  confirmEmailBody: '{workspace} a reçu une demande d’envoi de « {topic} » à cette adresse. Merci de la confirmer :',
  confirmEmailIgnore: 'Si vous n’avez rien demandé, ignorez ce message : vous ne serez pas abonné.',
};

const de: Strings = {
  unsubscribeTitle: 'Abmelden',
  unsubscribeQuestion: 'Von allen E-Mails von {workspace} abmelden?',
  unsubscribeAddress: 'Adresse: {address}',
  unsubscribeButton: 'Abmelden',
  managePreferences: 'Stattdessen Einstellungen verwalten',
  unsubscribedTitle: 'Sie sind abgemeldet',
  unsubscribedBody: 'Sie erhalten keine Marketing-E-Mails von {workspace} mehr.',
  preferencesTitle: 'Ihre Einstellungen',
  preferencesIntro: 'Wählen Sie, was {workspace} an {address} sendet.',
  allEmail: 'Von allen Marketing-E-Mails abmelden',
  allSms: 'Von allen Marketing-SMS abmelden',
  noTopics: 'Es gibt keine Themen zur Auswahl.',
  pending: 'wartet auf Ihre Bestätigung',
  save: 'Einstellungen speichern',
  saved: 'Ihre Einstellungen wurden gespeichert.',
  confirmTitle: 'Anmeldung bestätigen',
  confirmQuestion: 'Bestätigen Sie Ihre Anmeldung für „{topic}“ von {workspace}.',
  confirmButton: 'Bestätigen',
  confirmedBody: 'Ihre Anmeldung für „{topic}“ ist bestätigt.',
  nothingToConfirm: 'Für „{topic}“ gibt es nichts mehr zu bestätigen.',
  errorTitle: 'Dieser Link funktioniert nicht',
  errorBody: 'Der Link ist unvollständig oder nicht mehr gültig. Es wurde nichts geändert.',
  badRequestBody: 'Diese Anfrage wurde nicht verstanden. Es wurde nichts geändert.',
  errorCode: 'Fehlercode: {code}',
  confirmEmailSubject: 'Bestätigen Sie Ihre Anmeldung für „{topic}“',
  confirmEmailBody: '{workspace} hat eine Anfrage erhalten, „{topic}“ an diese Adresse zu senden. Bitte bestätigen Sie sie:',
  confirmEmailIgnore: 'Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Sie werden nicht angemeldet.',
};

const es: Strings = {
  unsubscribeTitle: 'Darse de baja',
  unsubscribeQuestion: '¿Darse de baja de todos los correos de {workspace}?',
  unsubscribeAddress: 'Dirección: {address}',
  unsubscribeButton: 'Darse de baja',
  managePreferences: 'Gestionar mis preferencias',
  unsubscribedTitle: 'Te has dado de baja',
  unsubscribedBody: 'Ya no recibirás correos de marketing de {workspace}.',
  preferencesTitle: 'Tus preferencias',
  preferencesIntro: 'Elige qué envía {workspace} a {address}.',
  allEmail: 'Darse de baja de todos los correos de marketing',
  allSms: 'Darse de baja de todos los SMS de marketing',
  noTopics: 'No hay temas para elegir.',
  pending: 'pendiente de tu confirmación',
  save: 'Guardar preferencias',
  saved: 'Tus preferencias se han guardado.',
  confirmTitle: 'Confirma tu suscripción',
  confirmQuestion: 'Confirma tu suscripción a «{topic}» de {workspace}.',
  confirmButton: 'Confirmar',
  confirmedBody: 'Tu suscripción a «{topic}» está confirmada.',
  nothingToConfirm: 'No queda nada por confirmar para «{topic}».',
  errorTitle: 'Este enlace no funciona',
  errorBody: 'El enlace está incompleto o ya no es válido. No se ha cambiado nada.',
  badRequestBody: 'No se ha podido entender esta solicitud. No se ha cambiado nada.',
  errorCode: 'Código de error: {code}',
  confirmEmailSubject: 'Confirma tu suscripción a «{topic}»',
  confirmEmailBody: '{workspace} ha recibido una solicitud para enviar «{topic}» a esta dirección. Confírmala:',
  confirmEmailIgnore: 'Si no lo has pedido, ignora este mensaje: no se te suscribirá.',
};

export const STRINGS: Record<string, Strings> = { en, fr, de, es };
export const LANGUAGES = Object.keys(STRINGS);

/** The first of the candidates (BCP 47 tags, "fr-CA" -> "fr") we have strings for; else "en". */
export function pickLanguage(...candidates: Array<string | null | undefined>): string {
  for (const c of candidates) {
    const primary = c?.trim().toLowerCase().split(/[-_]/)[0];
    if (primary && primary in STRINGS) return primary;
  }
  return 'en';
}
